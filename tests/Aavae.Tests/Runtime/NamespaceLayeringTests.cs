using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.Emit;
using System.Reflection.PortableExecutable;
using Aavae.Models;

namespace Aavae.Tests.Runtime;

/// <summary>
/// The assemblies' namespaces form layers in a stated order: each may use only those below it,
/// so the layout reads bottom up as the architecture does. Read from the compiled assemblies'
/// metadata: every type a type derives from, declares in a signature, or names in its methods' IL
/// (calls, fields, constructions, casts), by namespace. Each assembly has one namespace root: its
/// own name, or for Aavae.Core, which is the library, <c>Aavae.*</c> beside the others.
/// </summary>
public class NamespaceLayeringTests
{
    /// <summary>Lowest first: a namespace may use only those before it.</summary>
    private static readonly string[] Order =
    [
        // Aavae.Embedding: what both encoders share, without libtorch.
        "Aavae.Embedding",
        // Aavae.Core: the settings machinery and the process's runtime first ...
        "Aavae.Configuration", "Aavae.IO", "Aavae.Runtime", "Aavae.Progress", "Aavae.Download",
        // ... the engine's guard, the networks and their loss, the data, the transport ...
        "Aavae.Kernels", "Aavae.Objectives", "Aavae.Models", "Aavae.Data", "Aavae.Distributed", "Aavae.Augmentation",
        "Aavae.Optimization", "Aavae.Visualization",
        // ... evaluation, the run's settings and the engine report over them, the files a run reads and writes, its page, the training loop ...
        "Aavae.Evaluation", "Aavae.Options", "Aavae.Diagnostics", "Aavae.Checkpoints", "Aavae.Runs", "Aavae.Reports", "Aavae.Training",
        // ... and what a user calls: export, the consumer's API, one call per command.
        "Aavae.Export", "Aavae.Inference", "Aavae.Jobs",
        // The ONNX Runtime encoder, then the command line on top.
        "Aavae.Onnx", "Aavae.Cli",
    ];

    private static IEnumerable<(string Name, string Path)> Assemblies() =>
    [
        ("Aavae.Embedding", typeof(Aavae.Embedding.Pixels).Assembly.Location),
        ("Aavae.Core", typeof(AavaeModel).Assembly.Location),
        ("Aavae.Onnx", typeof(Aavae.Onnx.OnnxImageEncoder).Assembly.Location),
        ("Aavae.Cli", CliRunner.Program),
    ];

    [Fact]
    public void EveryNamespaceUsesOnlyTheLayersBelowIt()
    {
        var graph = new Dictionary<string, HashSet<string>>();
        foreach (var (_, path) in Assemblies())
            foreach (var (from, to) in Dependencies(path))
                (graph.TryGetValue(from, out var set) ? set : graph[from] = []).UnionWith(to);
        var unplaced = graph.Keys.Concat(graph.Values.SelectMany(v => v)).Distinct().Where(n => !Order.Contains(n)).Order().ToList();
        Assert.True(unplaced.Count == 0, $"namespaces without a place in the order: {string.Join(", ", unplaced)}");
        var upward = graph.SelectMany(kv => kv.Value.Where(to => Array.IndexOf(Order, to) > Array.IndexOf(Order, kv.Key)).Select(to => $"  {kv.Key} -> {to}")).Order().ToList();
        Assert.True(upward.Count == 0, $"uses of a higher layer:\n{string.Join("\n", upward)}");
    }

    [Fact]
    public void EachAssemblyHasOneNamespaceRoot()
    {
        var others = Assemblies().Select(a => a.Name).Where(n => n != "Aavae.Core").ToList();
        foreach (var (name, path) in Assemblies())
        {
            var namespaces = Declared(path);
            var stray = namespaces.Where(ns => name == "Aavae.Core"
                ? !ns.StartsWith("Aavae.", StringComparison.Ordinal) || others.Any(o => ns == o || ns.StartsWith(o + ".", StringComparison.Ordinal))
                : ns != name && !ns.StartsWith(name + ".", StringComparison.Ordinal)).ToList();
            Assert.True(stray.Count == 0, $"{name} declares {string.Join(", ", stray)}");
        }
    }

    [Fact]
    public void NoNamespaceOfTheLibraryDependsOnItselfThroughAnother()
    {
        var graph = Dependencies(typeof(AavaeModel).Assembly.Location);
        var cycles = StronglyConnected(graph).Where(c => c.Count > 1).ToList();
        var edges = cycles.SelectMany(c => graph.Where(kv => c.Contains(kv.Key)).SelectMany(kv => kv.Value.Where(c.Contains).Select(to => $"  {kv.Key} -> {to}")));
        Assert.True(cycles.Count == 0, $"namespace cycles: {string.Join("; ", cycles.Select(c => string.Join(" <-> ", c.Order())))}\n{string.Join("\n", edges.Order())}");
    }

    [Fact]
    public void TheCheckSeesALoopWhereThereIsOne()
    {
        // The same reading finds the dependencies that are there: Training uses Models and Models
        // uses Kernels, the way every training step runs.
        var graph = Dependencies(typeof(AavaeModel).Assembly.Location);
        Assert.Contains("Aavae.Models", graph["Aavae.Training"]);
        Assert.Contains("Aavae.Kernels", graph["Aavae.Models"]);
        var withLoop = graph.ToDictionary(kv => kv.Key, kv => new HashSet<string>(kv.Value));
        withLoop["Aavae.Kernels"].Add("Aavae.Training");
        Assert.Contains(StronglyConnected(withLoop), c => c.Contains("Aavae.Training") && c.Contains("Aavae.Kernels"));
    }

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    /// <summary>The namespaces an assembly declares types in (compiler-made types aside).</summary>
    private static List<string> Declared(string path)
    {
        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        var md = pe.GetMetadataReader();
        return md.TypeDefinitions.Select(h => NamespaceProvider.Of(md, h)).Where(ns => ns.Length > 0 && !ns.StartsWith("Microsoft", StringComparison.Ordinal) && !ns.StartsWith("System", StringComparison.Ordinal))
            .Distinct().Order().ToList();
    }

    /// <summary>Namespace -> the library's other namespaces its types use; a nested namespace (Training.Callbacks) is its folder's (Training).</summary>
    private static Dictionary<string, HashSet<string>> Dependencies(string path)
    {
        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        var md = pe.GetMetadataReader();
        var provider = new NamespaceProvider();
        var graph = new Dictionary<string, HashSet<string>>();

        IEnumerable<string> Used(EntityHandle handle) => handle.Kind switch
        {
            HandleKind.TypeDefinition => [NamespaceProvider.Of(md, (TypeDefinitionHandle)handle)],
            HandleKind.TypeSpecification => md.GetTypeSpecification((TypeSpecificationHandle)handle).DecodeSignature(provider, null),
            HandleKind.MethodDefinition => Used(md.GetMethodDefinition((MethodDefinitionHandle)handle).GetDeclaringType()),
            HandleKind.FieldDefinition => Used(md.GetFieldDefinition((FieldDefinitionHandle)handle).GetDeclaringType()),
            HandleKind.MemberReference => Used(md.GetMemberReference((MemberReferenceHandle)handle).Parent),
            HandleKind.MethodSpecification => Used(md.GetMethodSpecification((MethodSpecificationHandle)handle).Method)
                .Concat(md.GetMethodSpecification((MethodSpecificationHandle)handle).DecodeSignature(provider, null).SelectMany(t => t)),
            _ => [],
        };

        static string Layer(string ns) => string.Join('.', ns.Split('.').Take(2));

        void Add(string from, IEnumerable<string> used)
        {
            from = Layer(from);
            foreach (var to in used.Select(Layer))
            {
                if (to == from || !to.StartsWith("Aavae", StringComparison.Ordinal)) continue;
                if (!graph.TryGetValue(from, out var set)) graph[from] = set = [];
                set.Add(to);
            }
        }

        foreach (var typeHandle in md.TypeDefinitions)
        {
            var type = md.GetTypeDefinition(typeHandle);
            var ns = NamespaceProvider.Of(md, typeHandle);
            if (!ns.StartsWith("Aavae", StringComparison.Ordinal)) continue;
            if (!type.BaseType.IsNil) Add(ns, Used(type.BaseType));
            foreach (var i in type.GetInterfaceImplementations()) Add(ns, Used(md.GetInterfaceImplementation(i).Interface));
            foreach (var f in type.GetFields()) Add(ns, md.GetFieldDefinition(f).DecodeSignature(provider, null));
            foreach (var m in type.GetMethods())
            {
                var method = md.GetMethodDefinition(m);
                var signature = method.DecodeSignature(provider, null);
                Add(ns, signature.ReturnType.Concat(signature.ParameterTypes.SelectMany(t => t)));
                if (method.RelativeVirtualAddress == 0) continue;
                var body = pe.GetMethodBody(method.RelativeVirtualAddress);
                if (!body.LocalSignature.IsNil)
                    foreach (var local in md.GetStandaloneSignature(body.LocalSignature).DecodeLocalSignature(provider, null)) Add(ns, local);
                var il = body.GetILReader();
                while (il.RemainingBytes > 0)
                {
                    int first = il.ReadByte();
                    short value = first == 0xFE ? (short)(0xFE00 | il.ReadByte()) : (short)first;
                    if (!OpCodesByValue.TryGetValue(value, out var op)) throw new InvalidDataException($"unknown opcode 0x{value:X} in {md.GetString(type.Name)}.{md.GetString(method.Name)}");
                    switch (op.OperandType)
                    {
                        case OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineType or OperandType.InlineTok:
                            Add(ns, Used(MetadataTokens.EntityHandle(il.ReadInt32())));
                            break;
                        case OperandType.InlineSwitch:
                            // The count first: in `il.Offset += 4 * il.ReadInt32()` the old offset is read before the count moves it.
                            int targets = il.ReadInt32();
                            il.Offset += 4 * targets;
                            break;
                        default:
                            il.Offset += op.OperandType switch
                            {
                                OperandType.InlineNone => 0,
                                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                                OperandType.InlineVar => 2,
                                OperandType.InlineI8 or OperandType.InlineR => 8,
                                _ => 4,
                            };
                            break;
                    }
                }
            }
        }
        return graph;
    }

    /// <summary>A decoded type as the library namespaces it names (its own and its generic arguments').</summary>
    private sealed class NamespaceProvider : ISignatureTypeProvider<IEnumerable<string>, object?>
    {
        public static string Of(MetadataReader md, TypeDefinitionHandle handle)
        {
            var t = md.GetTypeDefinition(handle);
            var declaring = t.GetDeclaringType();
            return declaring.IsNil ? md.GetString(t.Namespace) : Of(md, declaring);
        }

        public IEnumerable<string> GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => [Of(reader, handle)];
        public IEnumerable<string> GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => [];
        public IEnumerable<string> GetTypeFromSpecification(MetadataReader reader, object? context, TypeSpecificationHandle handle, byte rawTypeKind) =>
            reader.GetTypeSpecification(handle).DecodeSignature(this, context);
        public IEnumerable<string> GetPrimitiveType(PrimitiveTypeCode typeCode) => [];
        public IEnumerable<string> GetSZArrayType(IEnumerable<string> elementType) => elementType;
        public IEnumerable<string> GetArrayType(IEnumerable<string> elementType, ArrayShape shape) => elementType;
        public IEnumerable<string> GetByReferenceType(IEnumerable<string> elementType) => elementType;
        public IEnumerable<string> GetPointerType(IEnumerable<string> elementType) => elementType;
        public IEnumerable<string> GetPinnedType(IEnumerable<string> elementType) => elementType;
        public IEnumerable<string> GetGenericInstantiation(IEnumerable<string> genericType, System.Collections.Immutable.ImmutableArray<IEnumerable<string>> typeArguments) =>
            genericType.Concat(typeArguments.SelectMany(a => a)).ToList();
        public IEnumerable<string> GetGenericMethodParameter(object? context, int index) => [];
        public IEnumerable<string> GetGenericTypeParameter(object? context, int index) => [];
        public IEnumerable<string> GetFunctionPointerType(MethodSignature<IEnumerable<string>> signature) =>
            signature.ReturnType.Concat(signature.ParameterTypes.SelectMany(p => p)).ToList();
        public IEnumerable<string> GetModifiedType(IEnumerable<string> modifier, IEnumerable<string> unmodifiedType, bool isRequired) => unmodifiedType;
    }

    /// <summary>Tarjan's strongly connected components.</summary>
    private static List<List<string>> StronglyConnected(Dictionary<string, HashSet<string>> graph)
    {
        var nodes = graph.Keys.Concat(graph.Values.SelectMany(v => v)).Distinct().Order().ToList();
        var index = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var onStack = new HashSet<string>();
        var result = new List<List<string>>();
        int counter = 0;

        void Visit(string v)
        {
            index[v] = low[v] = counter++;
            stack.Push(v);
            onStack.Add(v);
            foreach (var w in graph.TryGetValue(v, out var next) ? next : [])
            {
                if (!index.ContainsKey(w)) { Visit(w); low[v] = Math.Min(low[v], low[w]); }
                else if (onStack.Contains(w)) low[v] = Math.Min(low[v], index[w]);
            }
            if (low[v] != index[v]) return;
            var component = new List<string>();
            string u;
            do { u = stack.Pop(); onStack.Remove(u); component.Add(u); } while (u != v);
            result.Add(component);
        }

        foreach (var v in nodes)
            if (!index.ContainsKey(v)) Visit(v);
        return result;
    }
}
