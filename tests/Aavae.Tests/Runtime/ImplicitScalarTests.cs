using System.Reflection;
using System.Reflection.Emit;
using Aavae.Models;
using TorchSharp;

namespace Aavae.Tests.Runtime;

/// <summary>
/// The library never lets TorchSharp make a scalar that only a finalizer frees (see
/// <c>Aavae.Runtime.Scalars</c>). Read from the compiled library's IL: no method of Aavae.Core
/// converts a number to <c>TorchSharp.Scalar</c> implicitly, and none calls a TorchSharp member
/// that makes a scalar inside (<c>a + b</c>, <c>t * 2.0</c>, <c>add(t)</c>, <c>1 - t</c>, BatchNorm's
/// forward, the optimizers' steps), followed three calls deep into TorchSharp. Where the soak test
/// shows such a scalar freed mid-call now and then, this shows none is made at all.
/// </summary>
public class ImplicitScalarTests
{
    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    private static readonly Assembly TorchSharpAssembly = typeof(torch).Assembly;

    private static bool MakesScalar(MethodBase m) =>
        m.DeclaringType == typeof(Scalar) && (m.Name == "op_Implicit" || m is ConstructorInfo)
        || m.Name == "ToScalar";

    [Fact]
    public void LibraryMakesNoImplicitScalar()
    {
        var library = typeof(AavaeModel).Assembly;
        var found = new List<string>();
        var verdicts = new Dictionary<MethodBase, string?>();
        foreach (var type in library.GetTypes())
            foreach (var method in type.GetMethods(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
                .Cast<MethodBase>().Concat(type.GetConstructors(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)))
            {
                // A base-constructor call is not the construction of a TorchSharp module: the overrides are ours.
                var callees = Callees(method).ToList();
                var built = callees.Where(c => !(method is ConstructorInfo && c is ConstructorInfo && method.DeclaringType!.IsSubclassOf(c.DeclaringType!)));
                foreach (var callee in callees.Concat(built.SelectMany(Overrides)))
                {
                    if (callee.DeclaringType == typeof(Scalar) && callee.Name == "op_Implicit")
                        found.Add($"{Name(method)} converts a number to a Scalar implicitly");
                    else if (callee.Module.Assembly == TorchSharpAssembly && !MakesScalar(callee) && ScalarInside(callee, 3, verdicts) is { } path)
                        found.Add($"{Name(method)} calls {Name(callee)}, which makes a Scalar ({path})");
                }
            }
        Assert.True(found.Count == 0, $"{found.Distinct().Count()} places:\n{string.Join("\n", found.Distinct().Order())}");
    }

    /// <summary>
    /// A call through a TorchSharp module or optimizer reaches its <c>forward</c> or <c>step</c> by
    /// virtual dispatch, which IL does not show: for each TorchSharp module or optimizer the library
    /// builds (a constructor, or a factory returning one), its own forward and step count as called.
    /// </summary>
    private static IEnumerable<MethodBase> Overrides(MethodBase callee)
    {
        var type = callee is ConstructorInfo ? callee.DeclaringType : (callee as MethodInfo)?.ReturnType;
        if (type is null || type.Assembly != TorchSharpAssembly) return [];
        if (!typeof(torch.nn.Module).IsAssignableFrom(type) && !typeof(torch.optim.Optimizer).IsAssignableFrom(type)) return [];
        return type.GetMethods(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            .Where(m => m.Name is "forward" or "step" && m.DeclaringType!.Assembly == TorchSharpAssembly && !m.IsAbstract);
    }

    /// <summary>Where inside <paramref name="method"/> (within TorchSharp, <paramref name="depth"/> calls deep) a Scalar is made, or null.</summary>
    private static string? ScalarInside(MethodBase method, int depth, Dictionary<MethodBase, string?> verdicts)
    {
        if (verdicts.TryGetValue(method, out var known)) return known;
        verdicts[method] = null; // cycles
        string? result = null;
        foreach (var callee in Callees(method))
        {
            if (MakesScalar(callee)) { result = Name(method); break; }
            if (depth > 1 && callee.Module.Assembly == TorchSharpAssembly && ScalarInside(callee, depth - 1, verdicts) is { } inner)
            {
                result = $"{Name(method)} -> {inner}";
                break;
            }
        }
        verdicts[method] = result;
        return result;
    }

    private static string Name(MethodBase m) => $"{m.DeclaringType?.Name}.{m.Name}({string.Join(", ", m.GetParameters().Select(p => p.ParameterType.Name))})";

    /// <summary>The methods <paramref name="method"/>'s IL calls, constructs or takes a delegate to (lambdas run by TorchSharp's optimizers).</summary>
    private static IEnumerable<MethodBase> Callees(MethodBase method)
    {
        byte[]? il;
        try { il = method.GetMethodBody()?.GetILAsByteArray(); }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException) { yield break; }
        if (il is null) yield break;
        var typeArgs = method.DeclaringType is { IsGenericType: true } t ? t.GetGenericArguments() : null;
        var methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (int i = 0; i < il.Length;)
        {
            short value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            i += il[i] == 0xFE ? 2 : 1;
            if (!OpCodesByValue.TryGetValue(value, out var op)) yield break; // unknown byte: stop rather than misread
            int size = op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, i),
                _ => 4,
            };
            if (op.OperandType == OperandType.InlineMethod)
            {
                MethodBase? callee = null;
                try { callee = method.Module.ResolveMethod(BitConverter.ToInt32(il, i), typeArgs, methodArgs); }
                catch (Exception e) when (e is ArgumentException or BadImageFormatException or TypeLoadException) { }
                if (callee is not null) yield return callee;
            }
            i += size;
        }
    }
}
