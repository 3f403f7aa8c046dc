// Classifies a folder of pictures with a trained AAVAE encoder and a linear probe, using only the
// Aavae.Core package's consumer API (no TorchSharp types).
//
//   ClassifyFolder CHECKPOINT LABELLED_DIR QUERY_DIR [PROBE_JSON]
//
// LABELLED_DIR holds one folder of PNG / JPEG pictures per class; the probe is fitted on their
// features (and saved to PROBE_JSON when given). Every picture in QUERY_DIR is then classified.
using Aavae.Embedding;
using Aavae.Inference;

if (args.Length < 3)
{
    Console.Error.WriteLine("usage: ClassifyFolder CHECKPOINT LABELLED_DIR QUERY_DIR [PROBE_JSON]");
    return 2;
}
var (checkpoint, labelledDir, queryDir) = (args[0], args[1], args[2]);

using var encoder = ImageEncoder.Load(checkpoint, device: "cpu");
Console.WriteLine($"encoder: {encoder.FeatureDim} features of {encoder.ImageSize}x{encoder.ImageSize} {encoder.Dataset.Name} pictures");

var classes = Directory.GetDirectories(labelledDir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
var files = new List<string>();
var labels = new List<int>();
for (int c = 0; c < classes.Length; c++)
    foreach (var file in PictureFile.List([Path.Combine(labelledDir, classes[c]!)]))
    {
        files.Add(file);
        labels.Add(c);
    }
var features = encoder.Embed(files);
var probe = LinearProbe.Fit(features, labels, classes!);
Console.WriteLine($"probe: {classes.Length} classes, {files.Count} pictures, train accuracy {probe.Accuracy(features, labels):F3}");
if (args.Length > 3)
{
    probe.Save(args[3]);
    Console.WriteLine($"wrote {args[3]}");
}

var queries = PictureFile.List([queryDir]);
var queryFeatures = encoder.Embed(queries);
for (int i = 0; i < queries.Count; i++)
{
    var p = probe.Probabilities(queryFeatures[i]);
    int best = Array.IndexOf(p, p.Max());
    Console.WriteLine($"{Path.GetFileName(queries[i])}\t{probe.Classes[best]}\t{p[best]:F3}");
}
return 0;
