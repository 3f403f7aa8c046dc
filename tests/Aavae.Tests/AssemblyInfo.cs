// Model initialisation and posterior sampling use libtorch's process-wide generator; tests that
// check seeded runs bit for bit must not share it with tests running alongside.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
