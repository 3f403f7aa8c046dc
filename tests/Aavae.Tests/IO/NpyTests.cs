using System.Text;
using Aavae.IO;

namespace Aavae.Tests.IO;

public class NpyTests
{
    [Fact]
    public void AWrittenArrayReadsBackWithItsShape()
    {
        var path = Path.Combine(TempDir.Create(), "a.npy");
        Npy.Write(path, [1f, -2f, 3.5f, 0f, 7f, 8f], [2, 3]);
        var (data, shape) = Npy.ReadFloat32(path);
        Assert.Equal([2L, 3L], shape);
        Assert.Equal([1f, -2f, 3.5f, 0f, 7f, 8f], data);
    }

    [Theory]
    [InlineData(2, 0x7FFFFFFF, "(2, 3)", 24, "header says it is 2147483647 bytes long, the file holds")]
    [InlineData(1, -1, "(4000000000, 4000000000)", 24, "shape (4000000000, 4000000000) needs more than the file's bytes of float32, the file holds 24")]
    [InlineData(1, -1, "(99999999999999999999999, 1)", 24, "shape (99999999999999999999999, 1) is not a tuple of whole numbers")]
    [InlineData(1, -1, "('a', 3)", 24, "shape ('a', 3) is not a tuple of whole numbers")]
    [InlineData(1, -1, "(-2, 3)", 24, "shape (-2, 3) is not a tuple of whole numbers")]
    [InlineData(1, -1, "(0, 3)", 0, "the array is empty (shape (0, 3))")]
    [InlineData(1, -1, "(2, 3)", 20, "shape (2, 3) needs 24 bytes of float32, the file holds 20")]
    [InlineData(9, -1, "(2, 3)", 24, ".npy format version 9 (expected 1, 2 or 3)")]
    public void AHostileHeaderIsRefusedWithOneLineNamingTheFileBeforeAnythingIsAllocated(int major, long statedLength, string shape, int dataBytes, string expected)
    {
        var path = Path.Combine(TempDir.Create(), "x.npy");
        var header = Encoding.ASCII.GetBytes($"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}\n");
        using (var s = File.Create(path))
        {
            s.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)major, 0]);
            long length = statedLength < 0 ? header.Length : statedLength;
            s.Write(major == 1 || major == 9 ? BitConverter.GetBytes((ushort)length) : BitConverter.GetBytes((uint)length));
            s.Write(header);
            s.Write(new byte[dataBytes]);
        }
        var e = Assert.Throws<InvalidDataException>(() => Npy.ReadFloat32(path));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
