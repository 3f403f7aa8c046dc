// Feature vectors of pictures from an AAVAE encoder exported as ONNX, on ONNX Runtime alone (the
// Aavae.Onnx package; no libtorch):
//
//   EmbedOnnx MODEL_ONNX PICTURE...
//
// Prints one line per picture: its file name, a tab, its features separated by commas.
using System.Globalization;
using Aavae.Onnx;

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: EmbedOnnx MODEL_ONNX PICTURE...");
    return 2;
}
using var encoder = OnnxImageEncoder.Load(args[0]);
var info = encoder.Info;
Console.WriteLine($"encoder: {info.Encoder} width {info.Width}, {encoder.FeatureDim} features of {encoder.ImageSize}x{encoder.ImageSize} {info.Dataset} pictures");
var pictures = args[1..];
var features = encoder.Embed(pictures);
for (int i = 0; i < pictures.Length; i++)
    Console.WriteLine($"{Path.GetFileName(pictures[i])}\t{string.Join(",", features[i].Select(f => f.ToString("R", CultureInfo.InvariantCulture)))}");
return 0;
