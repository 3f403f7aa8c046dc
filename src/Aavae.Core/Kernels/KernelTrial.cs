using Aavae.Runtime;
using System.Globalization;
using static TorchSharp.torch;

namespace Aavae.Kernels;

/// <summary>
/// The work of the guard's trial process (<c>aavae kernel-trial</c>), which runs convolutions that
/// might kill or freeze the process that runs them: oneDNN's kernels can abort on corrupted memory,
/// fault, or spin forever in an OpenMP barrier, and nothing inside a process can stop a thread stuck
/// in native code. One request a line on standard input, one reply a line on standard output
/// (prefixed <see cref="Prefix"/>, as oneDNN's verbose log may share the stream):
/// <list type="bullet">
/// <item><c>threads N</c>: compute on N threads, as the process that asks does (oneDNN picks kernels by thread count too).</item>
/// <item><c>run ROUTE PROBLEM</c>: the problem at its real size through the route, forward and, when it has one, backward, on one thread and on N (<see cref="Run"/>); replies <c>started</c>, then <c>done</c>.</item>
/// <item><c>check ROUTE SHAPE_PROBLEM</c>: <see cref="ConvCheck"/>'s float64 comparison of the route for the problem's shape, layout and type; replies the four errors.</item>
/// </list>
/// A reply that never comes, after <c>started</c>, is the verdict: <see cref="KernelTrials"/> reads the exit status or the time limit.
/// </summary>
public static class KernelTrial
{
    public const string Prefix = "trial:";

    /// <summary>The asking process's id: a trial process whose asker has gone kills itself, even from inside a hung kernel.</summary>
    public const string ParentVariable = "AAVAE_TRIAL_PARENT";

    /// <summary>
    /// Seeds of the float64 comparison: one on a single thread, where the oneDNN bug seen on Zen 5 shows
    /// every time (with two threads it showed in most trials, not all) and a kernel that corrupts memory
    /// aborts rather than spins, so it runs first; then one at the asker's thread count, the kernels
    /// training will use. A route wrong in either counts as wrong.
    /// </summary>
    private static readonly (ulong Seed, bool SingleThread)[] Seeds = [(1235, true), (1234, false)];

    public static int Serve(TextReader requests, TextWriter replies)
    {
        TorchRuntime.EnsureLoaded();
        WatchParent();
        void Reply(string text)
        {
            replies.WriteLine($"{Prefix} {text}");
            replies.Flush();
        }
        while (requests.ReadLine() is { } line)
        {
            var words = line.Split(' ', 3);
            try
            {
                switch (words[0])
                {
                    case "threads":
                        set_num_threads(int.Parse(words[1], CultureInfo.InvariantCulture));
                        Reply("ok");
                        break;
                    case "run":
                        Reply("started");
                        Run(ConvProblem.Parse(words[2]), Enum.Parse<ConvRoute>(words[1]));
                        Reply("done");
                        break;
                    case "check":
                        var problem = ConvProblem.Parse(words[2]);
                        Reply("started");
                        var e = Worst(problem.Shape, Enum.Parse<ConvRoute>(words[1]), problem.Format, problem.ComputeType);
                        Reply(string.Join(' ', new[] { e.Output, e.InputGrad, e.WeightGrad, e.BiasGrad }.Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
                        break;
                    default:
                        Reply($"error unknown request {words[0]}");
                        break;
                }
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException or OverflowException)
            {
                Reply($"error {ex.Message.ReplaceLineEndings(" ")}");
            }
        }
        return 0;
    }

    /// <summary>
    /// Ends this process when the one that started it has gone: a thread spinning in a native kernel
    /// would otherwise keep a core busy for ever after its asker was killed.
    /// </summary>
    private static void WatchParent()
    {
        if (!int.TryParse(Environment.GetEnvironmentVariable(ParentVariable), CultureInfo.InvariantCulture, out int parent)) return;
        new Thread(() =>
        {
            while (true)
            {
                Thread.Sleep(500);
                bool alive;
                try
                {
                    using var p = System.Diagnostics.Process.GetProcessById(parent);
                    alive = !p.HasExited;
                }
                catch (ArgumentException)
                {
                    alive = false;
                }
                if (!alive) System.Diagnostics.Process.GetCurrentProcess().Kill();
            }
        }) { IsBackground = true, Name = "trial parent watch" }.Start();
    }

    /// <summary>The float64 comparison over <see cref="Seeds"/>: the worst error.</summary>
    public static ConvError Worst(ConvShape shape, ConvRoute route, MemoryFormat format, ScalarType? computeType)
    {
        ConvError? worst = null;
        int threads = get_num_threads();
        foreach (var (seed, singleThread) in Seeds)
        {
            if (singleThread && threads == 1) continue;
            if (singleThread) set_num_threads(1);
            try
            {
                var e = ConvCheck.Measure(shape, route, CPU, seed, format, computeType);
                if (worst is null || e.Max > worst.Max) worst = e;
            }
            finally
            {
                if (singleThread) set_num_threads(threads);
            }
        }
        return worst!;
    }

    /// <summary>
    /// The problem on one thread, then on the asker's thread count. One thread shows a kernel's
    /// memory corruption every time (glibc aborts at the next free); on two, the same kernel spins in
    /// an OpenMP barrier some of the time and returns, having corrupted memory unseen, the rest.
    /// </summary>
    public static void Run(ConvProblem problem, ConvRoute route)
    {
        int threads = get_num_threads();
        if (threads > 1)
        {
            set_num_threads(1);
            try { RunOnce(problem, route); }
            finally { set_num_threads(threads); }
        }
        RunOnce(problem, route);
    }

    /// <summary>One call of the problem at its real size on random data: what is tried is whether it returns, not its values.</summary>
    public static void RunOnce(ConvProblem problem, ConvRoute route)
    {
        using var scope = NewDisposeScope();
        var shape = problem.Shape;
        var type = problem.ComputeType ?? ScalarType.Float32;
        Tensor Laid(Tensor t) => problem.Format == MemoryFormat.ChannelsLast ? ChannelsLast.Copy(t) : t;
        var x = Laid(randn([problem.Batch, shape.InChannels, problem.Height, problem.Width]).to(type));
        var w = Laid(randn([shape.OutChannels, shape.InChannels, shape.Kernel, shape.Kernel]).to(type));
        var b = shape.Bias ? randn([shape.OutChannels]).to(type) : null;
        if (problem.Backward)
        {
            x.requires_grad_();
            w.requires_grad_();
            b?.requires_grad_();
        }
        var y = ConvRoutes.Apply(route, x, w, b, shape.Stride, shape.Padding);
        if (problem.Backward) y.backward([Laid(randn(y.shape).to(type))]);
    }
}
