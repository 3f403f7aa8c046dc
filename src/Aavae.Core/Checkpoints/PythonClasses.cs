using System.Collections;
using System.Text;
using System.Text.RegularExpressions;
using Razorvine.Pickle;

namespace Aavae.Checkpoints;

/// <summary>
/// Python classes that Lightning checkpoints pickle and Razorvine cannot rebuild by default:
/// dict subclasses (Lightning's <c>AttributeDict</c> holding <c>hyper_parameters</c>,
/// <c>defaultdict</c>) whose items are restored with SETITEMS, which only works on a Hashtable.
/// They come back as plain dictionaries; nothing else in the file depends on them.
/// </summary>
internal static class PythonClasses
{
    private static readonly (string Module, string Name)[] DictSubclasses =
    [
        ("pytorch_lightning.utilities.parsing", "AttributeDict"),
        ("lightning.pytorch.utilities.parsing", "AttributeDict"),
        ("lightning_fabric.utilities.data", "AttributeDict"),
        ("lightning.fabric.utilities.data", "AttributeDict"),
        ("collections", "defaultdict"),
    ];

    private static readonly Lazy<bool> Registered = new(() =>
    {
        foreach (var (module, name) in DictSubclasses) Unpickler.registerConstructor(module, name, new DictConstructor());
        // Enum members pickle as getattr(EnumClass, "NAME"), which Razorvine does not provide.
        foreach (var builtins in new[] { "__builtin__", "builtins" }) Unpickler.registerConstructor(builtins, "getattr", new AnyObjectConstructor());
        return true;
    });

    public static void Register() => _ = Registered.Value;

    /// <summary>Modules whose classes Razorvine or TorchSharp.PyBridge already rebuild.</summary>
    private static readonly string[] Handled = ["torch", "collections", "builtins", "__builtin__", "copy_reg", "copyreg", "_codecs", "numpy", "datetime", "decimal", "array"];

    private static readonly HashSet<string> Tolerated = [];

    /// <summary>
    /// torch.save pickles with protocol 2, naming each class in a GLOBAL opcode
    /// (<c>c module\n name\n</c>). Every class outside the handled modules (Lightning's callbacks,
    /// pathlib paths, OmegaConf containers...) gets a constructor that accepts any arguments, so
    /// no such object can make a checkpoint unreadable; the state_dict never depends on them.
    /// </summary>
    public static void TolerateClassesIn(byte[] pickle)
    {
        Register();
        var text = Encoding.Latin1.GetString(pickle);
        foreach (Match m in Regex.Matches(text, @"c([A-Za-z_][\w.]*)\n([A-Za-z_][\w.]*)\n"))
        {
            string module = m.Groups[1].Value, name = m.Groups[2].Value;
            if (Handled.Any(h => module == h || module.StartsWith(h + ".", StringComparison.Ordinal))) continue;
            if (DictSubclasses.Contains((module, name))) continue;
            lock (Tolerated)
                if (Tolerated.Add(module + "." + name))
                    Unpickler.registerConstructor(module, name, new AnyObjectConstructor());
        }
    }

    private sealed class AnyObjectConstructor : IObjectConstructor
    {
        public object construct(object[] args) => new PythonDict { ["__args__"] = args };
    }

    private sealed class DictConstructor : IObjectConstructor
    {
        // Constructor arguments (defaultdict's factory) do not matter for reading values.
        public object construct(object[] args) => new PythonDict();
    }

    /// <summary>A dict subclass or unknown object: its items or attributes, and its constructor arguments under <c>__args__</c>.</summary>
    public sealed class PythonDict : Hashtable
    {
        public void __setstate__(Hashtable state)
        {
            foreach (DictionaryEntry e in state) this[e.Key] = e.Value;
        }

        public void __setstate__(object[] state)
        {
            foreach (var part in state)
                if (part is Hashtable h) __setstate__(h);
        }
    }
}
