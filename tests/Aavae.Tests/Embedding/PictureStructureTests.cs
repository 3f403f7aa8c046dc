using System.Buffers.Binary;
using Aavae.Embedding;
using Aavae.Tests.Data;

namespace Aavae.Tests.Embedding;

/// <summary>
/// Lengths a file declares are checked before the decoder trusts them: a real picture of each format
/// (written by PIL) decodes, and the same picture with one length made to lie is refused in one line.
/// </summary>
public class PictureStructureTests
{
    private static readonly Lazy<string> Folder = new(() =>
    {
        var folder = TempDir.Create();
        var raw = Path.Combine(folder, "picture.raw");
        File.WriteAllBytes(raw, PictureFolderTests.FashionMnist(1)[0]);
        ReferenceFixtures.RunPythonCode($$"""
            import numpy as np
            from PIL import Image
            a = np.fromfile('{{raw}}', np.uint8).reshape(28, 28)
            im = Image.fromarray(a)
            im.save('{{folder}}/a.gif')
            im.save('{{folder}}/a.jpg', quality=90)
            im.convert('RGB').save('{{folder}}/a.webp', lossless=True)
            """);
        return folder;
    });

    private static byte[] Read(string name) => File.ReadAllBytes(Path.Combine(Folder.Value, name));

    private static string Refusal(byte[] bytes) =>
        Assert.Throws<InvalidDataException>(() => PictureFile.DecodeRgb(bytes, "f")).Message;

    [RequiresFact(Need.Pil)]
    public void AGifsDataBlocksAndImageSizeAreCheckedBeforeDecoding()
    {
        var gif = Read("a.gif");
        Assert.Equal((28, 28), (PictureFile.DecodeRgb(gif, "a.gif").Width, PictureFile.DecodeRgb(gif, "a.gif").Height));
        // The image descriptor comes after the header, the screen descriptor and the global colour table.
        int flags = gif[10];
        int descriptor = Array.IndexOf(gif, (byte)0x2C, 13 + ((flags & 0x80) != 0 ? 3 << ((flags & 7) + 1) : 0));
        Assert.True(descriptor > 0);

        // Cut inside the image data: its last sub-block says more bytes than are left.
        Assert.Contains("past the end of the file", Refusal(gif[..(gif.Length - 10)]));
        Assert.Contains("cut before its first image", Refusal(gif[..descriptor]));

        var huge = gif.ToArray();
        BinaryPrimitives.WriteUInt16LittleEndian(huge.AsSpan(descriptor + 5), 60000);
        BinaryPrimitives.WriteUInt16LittleEndian(huge.AsSpan(descriptor + 7), 60000);
        Assert.Contains("says 60000 x 60000 pixels", Refusal(huge));

        // The first data sub-block's length byte says 255, more than the file holds after it.
        int lzw = descriptor + 10 + ((gif[descriptor + 9] & 0x80) != 0 ? 3 << ((gif[descriptor + 9] & 7) + 1) : 0);
        var lying = gif[..(lzw + 1 + 40)];
        lying[lzw + 1] = 255;
        Assert.Contains("says 255 bytes, past the end of the file", Refusal(lying));
    }

    [RequiresFact(Need.Pil)]
    [Trait(Category.Name, Category.Slow)]
    public void APhonePhotoOverTheLimitDecodesAtHalfItsSize()
    {
        // 9,000 x 8,000 = 72 megapixels, over the 64 a decoded picture may have: white, a black block at (2000..3999, 3000..4999).
        var path = Path.Combine(TempDir.Create(), "phone.jpg");
        ReferenceFixtures.RunPythonCode($$"""
            from PIL import Image
            im = Image.new('RGB', (9000, 8000), (255, 255, 255))
            im.paste((0, 0, 0), (2000, 3000, 4000, 5000))
            im.save('{{path}}', quality=80)
            """);
        var (width, height, rgb) = PictureFile.DecodeRgb(path);
        Assert.Equal((4500, 4000), (width, height));
        Assert.Equal((4500, 4000), PictureFile.ReadSize(path));
        static int At(byte[] rgb, int x, int y) => rgb[3 * (y * 4500 + x)];
        Assert.True(At(rgb, 1500, 2000) < 20, "inside the block");
        Assert.True(At(rgb, 500, 500) > 235, "outside it");
        Assert.True(At(rgb, 2100, 2600) > 235, "right of it");
    }

    [RequiresFact(Need.Pil)]
    public void AJpegSegmentThatRunsPastTheFileIsRefused()
    {
        var jpeg = Read("a.jpg");
        PictureFile.DecodeRgb(jpeg, "a.jpg");
        // The first segment after SOI (PIL writes APP0, JFIF) says 65,535 bytes.
        var lying = jpeg.ToArray();
        lying[4] = lying[5] = 0xFF;
        Assert.Contains("runs past the end of the file", Refusal(lying));
    }

    [RequiresFact(Need.Pil)]
    public void ARiffChunkThatRunsPastTheFileIsRefused()
    {
        var webp = Read("a.webp");
        PictureFile.DecodeRgb(webp, "a.webp");
        var lying = webp.ToArray();
        // The first chunk (VP8L) after the 12-byte RIFF header says 2^31 bytes.
        BinaryPrimitives.WriteUInt32LittleEndian(lying.AsSpan(16), 1u << 31);
        Assert.Contains("past the end of the file", Refusal(lying));
        var declared = webp.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(declared.AsSpan(4), (uint)webp.Length + 100);
        Assert.Contains($"the file has {webp.Length}", Refusal(declared));
    }
}
