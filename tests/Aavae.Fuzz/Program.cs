// The long fuzzing campaign's target (campaign.sh drives it):
//   dotnet Aavae.Fuzz.dll seeds DIR          a valid file per reader: DIR/NAME/seed.EXT
//   dotnet Aavae.Fuzz.dll run NAME           under afl-fuzz: each input read by NAME's reader
//   dotnet Aavae.Fuzz.dll replay NAME FILE   one input, and what became of it
// An input may be read or refused with one line naming the file; anything else is a crash afl keeps.
using Aavae.Fuzz;

switch (args)
{
    case ["seeds", var dir]:
        foreach (var target in ReaderTargets.All)
            target.WriteSeed(Path.Combine(Directory.CreateDirectory(Path.Combine(dir, target.Name)).FullName, "seed" + target.Extension));
        return 0;
    case ["run", var name]:
    {
        var work = Directory.CreateTempSubdirectory("aavae-fuzz-").FullName;
        // Instrumented code (all of Aavae.Core, the table's static fields too) may run only inside Run: it writes to afl's shared memory.
        SharpFuzz.Fuzzer.OutOfProcess.Run(stream =>
        {
            var target = ReaderTargets.Get(name);
            var path = Path.Combine(work, "input" + target.Extension);
            using (var file = File.Create(path)) stream.CopyTo(file);
            ReadOrCrash(target, path);
        });
        return 0;
    }
    case ["replay", var name, var file]:
    {
        var target = ReaderTargets.Get(name);
        var path = Path.Combine(Directory.CreateTempSubdirectory("aavae-fuzz-").FullName, "input" + target.Extension);
        File.Copy(file, path);
        ReadOrCrash(target, path);
        Console.WriteLine("read or properly refused");
        return 0;
    }
    default:
        Console.Error.WriteLine("usage: Aavae.Fuzz seeds DIR | run NAME | replay NAME FILE");
        return 2;
}

static void ReadOrCrash(ReaderTarget target, string path)
{
    try
    {
        target.Read(path);
    }
    catch (Exception e) when (ReaderTargets.IsProperRefusal(e, path, out _))
    {
    }
}
