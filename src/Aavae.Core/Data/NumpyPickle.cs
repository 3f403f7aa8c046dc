using System.Text;
using Razorvine.Pickle;

namespace Aavae.Data;

/// <summary>
/// Just enough of NumPy's pickle protocol for Razorvine.Pickle to read uint8 arrays, as stored in
/// CIFAR-10's Python batches: <c>numpy.core.multiarray._reconstruct</c> followed by
/// <c>__setstate__((version, shape, dtype, is_fortran, raw_bytes))</c>.
/// </summary>
public static class NumpyPickle
{
    public sealed class NdArray
    {
        public int[] Shape { get; private set; } = [];
        public string DType { get; private set; } = "";
        public byte[] Data { get; private set; } = [];

        // Called by the unpickler's BUILD opcode.
        public void __setstate__(object[] state)
        {
            Shape = ((object[])state[1]).Select(Convert.ToInt32).ToArray();
            DType = ((DTypeInfo)state[2]).Code;
            if ((bool)state[3]) throw new InvalidDataException("Fortran-ordered arrays are not supported");
            Data = state[4] switch
            {
                byte[] b => b,
                // Python 2 pickles store the raw buffer as a str: one char per byte.
                string s => Encoding.Latin1.GetBytes(s),
                var other => throw new InvalidDataException($"unexpected array buffer of type {other?.GetType().Name}"),
            };
        }
    }

    public sealed class DTypeInfo(string code)
    {
        public string Code { get; } = code;

        public void __setstate__(object[] state) { }
    }

    private sealed class Reconstruct : IObjectConstructor
    {
        public object construct(object[] args) => new NdArray();
    }

    private sealed class DTypeConstructor : IObjectConstructor
    {
        public object construct(object[] args) => new DTypeInfo((string)args[0]);
    }

    public static object Load(byte[] bytes)
    {
        // Registration is global in Razorvine; it is idempotent, so doing it per call is safe.
        foreach (var module in new[] { "numpy.core.multiarray", "numpy._core.multiarray" })
            Unpickler.registerConstructor(module, "_reconstruct", new Reconstruct());
        Unpickler.registerConstructor("numpy", "dtype", new DTypeConstructor());
        using var unpickler = new Unpickler();
        return unpickler.loads(bytes);
    }
}
