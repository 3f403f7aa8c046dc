using System.Diagnostics;
using System.Text.Json;

namespace Aavae.Tests.Distributed;

/// <summary>
/// Two "hosts" on this machine: two network namespaces joined by a veth pair (192.0.2.1 and
/// 192.0.2.2, documentation addresses; no traffic leaves the namespaces made here), each run under
/// its own host name so MPI sees two machines and cannot use shared memory between them. A
/// launcher runs on host-a and reaches host-b through a remote-shell agent that enters its
/// namespace, as a cluster's launcher reaches a node through ssh. Needs root and iproute2. The
/// benchmark of emulated links compiles this file too (bench/Aavae.Bench).
/// </summary>
public sealed class TwoHosts : IDisposable
{
    /// <summary>The interface name on both sides, so one launcher flag names it on every host.</summary>
    public const string Interface = "aavae0";
    public const string Subnet = "192.0.2.0/24";
    public static readonly string[] Names = ["host-a", "host-b"];
    public static readonly string[] Addresses = ["192.0.2.1", "192.0.2.2"];

    private readonly string[] namespaces;
    private readonly string directory;

    public TwoHosts()
    {
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("network namespaces are Linux's");
        if (Environment.UserName != "root") throw new InvalidOperationException("the two-host tests make network namespaces: run them as root (CI does)");
        string tag = $"{Environment.ProcessId % 100000}";
        namespaces = [$"aavae-a{tag}", $"aavae-b{tag}"];
        directory = Directory.CreateTempSubdirectory("aavae-hosts-").FullName;
        RemoveNamespaces();
        Ip("netns", "add", namespaces[0]);
        Ip("netns", "add", namespaces[1]);
        Ip("link", "add", $"aavae-a{tag}", "type", "veth", "peer", "name", $"aavae-b{tag}");
        for (int i = 0; i < 2; i++)
        {
            var link = i == 0 ? $"aavae-a{tag}" : $"aavae-b{tag}";
            Ip("link", "set", link, "netns", namespaces[i]);
            Ip("-n", namespaces[i], "link", "set", link, "name", Interface);
            Ip("-n", namespaces[i], "addr", "add", Addresses[i] + "/24", "dev", Interface);
            Ip("-n", namespaces[i], "link", "set", Interface, "up");
            Ip("-n", namespaces[i], "link", "set", "lo", "up");
            // `ip netns exec` shows /etc/netns/NAME/hosts as /etc/hosts: each host finds the other by name.
            var etc = Directory.CreateDirectory(Path.Combine("/etc/netns", namespaces[i])).FullName;
            File.WriteAllText(Path.Combine(etc, "hosts"), $"127.0.0.1 localhost\n{Addresses[0]} {Names[0]}\n{Addresses[1]} {Names[1]}\n");
        }
        Agent = Path.Combine(directory, "agent");
        // "agent [ssh options] HOST COMMAND...": COMMAND runs in HOST's namespace under HOST's name.
        File.WriteAllText(Agent, $$"""
            #!/bin/sh
            while [ "${1#-}" != "$1" ]; do shift; done
            host=$1; shift
            case $host in
              {{Names[0]}}|{{Addresses[0]}}) ns={{namespaces[0]}};;
              {{Names[1]}}|{{Addresses[1]}}) ns={{namespaces[1]}};;
              *) echo "agent: no host $host" >&2; exit 255;;
            esac
            exec ip netns exec $ns unshare --uts sh -c 'hostname "$0"; exec sh -c "$1"' "$host" "$*"

            """);
        File.SetUnixFileMode(Agent, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>The remote-shell agent a launcher is given in place of ssh.</summary>
    public string Agent { get; }

    /// <summary>
    /// <c>dotnet program args</c> as one process on each host, started from host-a by the
    /// launcher of <paramref name="family"/> with shared memory off: every byte between the
    /// processes crosses the veth pair over TCP.
    /// </summary>
    public Process Start(string family, string program, IEnumerable<string> args, string workingDirectory, IReadOnlyDictionary<string, string>? environment = null)
    {
        var hosts = string.Join(',', Names);
        // --bind-to none: the two hosts share this machine's cores, and each host's daemon would bind its rank to core 0.
        string[] launcher = family == "openmpi"
            ? ["mpirun.openmpi", "--host", string.Join(',', Names.Select(n => n + ":1")), "-np", "2", "--bind-to", "none", "--mca", "plm_rsh_agent", Agent,
               "--mca", "btl", "tcp,self", "--mca", "btl_tcp_if_include", Subnet, "--mca", "oob_tcp_if_include", Subnet, "-x", "PATH",
               .. (environment ?? new Dictionary<string, string>()).Keys.SelectMany(k => new[] { "-x", k })]
            // MPICH on UCX: TCP and self only (no shared-memory transports), on the veth.
            : ["mpiexec.mpich", "-launcher", "ssh", "-launcher-exec", Agent, "-hosts", hosts, "-n", "2", "-iface", Interface,
               "-genvall", "-genv", "UCX_TLS", "tcp,self", "-genv", "UCX_NET_DEVICES", Interface];
        var info = new ProcessStartInfo("ip") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])["netns", "exec", namespaces[0], "unshare", "--uts", "sh", "-c", "hostname \"$0\"; exec \"$@\"", Names[0], .. launcher, "dotnet", program, .. args])
            info.ArgumentList.Add(a);
        // Open MPI refuses root (containers, CI runners) unless told twice.
        info.Environment["OMPI_ALLOW_RUN_AS_ROOT"] = info.Environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) info.Environment[k] = v;
        return Process.Start(info)!;
    }

    /// <summary>Bytes host-a's interface has sent and received so far.</summary>
    public long BytesCrossed()
    {
        var json = Ip("-n", namespaces[0], "-s", "-j", "link", "show", Interface);
        var stats = JsonDocument.Parse(json).RootElement[0].GetProperty("stats64");
        return stats.GetProperty("rx").GetProperty("bytes").GetInt64() + stats.GetProperty("tx").GetProperty("bytes").GetInt64();
    }

    /// <summary>
    /// Limits both directions of the link to <paramref name="rate"/> (tc's spelling: "10gbit",
    /// "1gbit") with a token bucket of a millisecond's bytes; null: the veth's own speed.
    /// </summary>
    public void Limit(string? rate)
    {
        foreach (var ns in namespaces)
        {
            Run("ip", "netns", "exec", ns, "tc", "qdisc", "del", "dev", Interface, "root");
            if (rate is null) continue;
            double bitsPerSecond = double.Parse(rate[..^4], System.Globalization.CultureInfo.InvariantCulture) * (rate.EndsWith("gbit", StringComparison.Ordinal) ? 1e9 : 1e6);
            long burst = Math.Max(64 * 1024, (long)(bitsPerSecond / 8 / 1000));
            var (code, error) = Run("ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", Interface, "root", "tbf", "rate", rate, "burst", burst.ToString(), "latency", "100ms");
            if (code != 0) throw new InvalidOperationException($"tc tbf {rate}: {error.Trim()}");
        }
    }

    private static string Ip(params string[] args)
    {
        var (code, output, error) = RunWithOutput("ip", args);
        if (code != 0) throw new InvalidOperationException($"ip {string.Join(' ', args)}: {error.Trim()}");
        return output;
    }

    private static (int Code, string Error) Run(string program, params string[] args)
    {
        var (code, _, error) = RunWithOutput(program, args);
        return (code, error);
    }

    private static (int Code, string Output, string Error) RunWithOutput(string program, string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output.Result, error);
    }

    public void Dispose()
    {
        RemoveNamespaces();
        try { Directory.Delete(directory, recursive: true); } catch (IOException) { }
    }

    private void RemoveNamespaces()
    {
        foreach (var ns in namespaces)
        {
            // Deleting a namespace deletes its end of the veth pair, and with it the other end.
            Run("ip", "netns", "delete", ns);
            try { Directory.Delete(Path.Combine("/etc/netns", ns), recursive: true); } catch (IOException) { }
        }
    }
}
