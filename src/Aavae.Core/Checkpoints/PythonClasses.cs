using System.Collections;
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
        return true;
    });

    public static void Register() => _ = Registered.Value;

    private sealed class DictConstructor : IObjectConstructor
    {
        // Constructor arguments (defaultdict's factory) do not matter for reading values.
        public object construct(object[] args) => new PythonDict();
    }

    /// <summary>A dict subclass instance: its items, and its instance attributes folded in when it has any.</summary>
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
