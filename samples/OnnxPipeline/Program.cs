// An exported AAVAE encoder inside an ML.NET pipeline: ApplyOnnxModel turns each picture's evaluation
// view into features, a maximum-entropy classifier is trained on them, and the fitted pipeline
// classifies new pictures. Aavae.Onnx prepares the views (as the libtorch encoder would); ONNX
// Runtime, through ML.NET, runs the encoder. No libtorch.
//
//   OnnxPipeline MODEL_ONNX LABELLED_DIR QUERY_DIR
//
// LABELLED_DIR holds one folder of PNG / JPEG pictures per class.
using Aavae.Embedding;
using Aavae.Onnx;
using Microsoft.ML;
using Microsoft.ML.Data;

if (args.Length != 3)
{
    Console.Error.WriteLine("usage: OnnxPipeline MODEL_ONNX LABELLED_DIR QUERY_DIR");
    return 2;
}
var (modelFile, labelledDir, queryDir) = (args[0], args[1], args[2]);

using var encoder = OnnxImageEncoder.Load(modelFile);
int size = encoder.ImageSize;
PictureRow Row(string file, string label) => new() { File = Path.GetFileName(file), Label = label, Input = encoder.Preprocess([Pixels.Read(file)]).Buffer.ToArray() };

var labelled = Directory.GetDirectories(labelledDir).Order(StringComparer.Ordinal)
    .SelectMany(dir => PictureFile.List([dir]).Select(file => Row(file, Path.GetFileName(dir)))).ToList();
var queries = PictureFile.List([queryDir]).Select(file => Row(file, "")).ToList();

var ml = new MLContext(seed: 0);
// The view's length is known only at run time: the schema says it, as the model's input [1, 3, S, S] needs.
var schema = SchemaDefinition.Create(typeof(PictureRow));
schema["input"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3 * size * size);
var shapes = new Dictionary<string, int[]> { ["input"] = [1, 3, size, size], ["features"] = [1, encoder.FeatureDim] };
var pipeline = ml.Transforms.ApplyOnnxModel(["features"], ["input"], modelFile, shapes, gpuDeviceId: null, fallbackToCpu: false)
    .Append(ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label"))
    .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy("LabelKey", "features"))
    .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
var model = pipeline.Fit(ml.Data.LoadFromEnumerable(labelled, schema));
var trained = ml.MulticlassClassification.Evaluate(model.Transform(ml.Data.LoadFromEnumerable(labelled, schema)), "LabelKey");
Console.WriteLine($"pipeline: {labelled.Select(r => r.Label).Distinct().Count()} classes, {labelled.Count} pictures, train accuracy {trained.MicroAccuracy:F3}");

var predictions = ml.Data.CreateEnumerable<Prediction>(model.Transform(ml.Data.LoadFromEnumerable(queries, schema)), reuseRowObject: false);
foreach (var (row, prediction) in queries.Zip(predictions))
    Console.WriteLine($"{row.File}\t{prediction.PredictedLabel}\t{prediction.Score.Max():F3}");
return 0;

/// <summary>A picture as the pipeline reads it: its evaluation view, flattened [3, S, S].</summary>
internal sealed class PictureRow
{
    public string File { get; set; } = "";
    public string Label { get; set; } = "";
    [ColumnName("input")]
    public float[] Input { get; set; } = [];
}

internal sealed class Prediction
{
    public string PredictedLabel { get; set; } = "";
    public float[] Score { get; set; } = [];
}
