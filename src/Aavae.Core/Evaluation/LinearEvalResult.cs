namespace Aavae.Evaluation;

/// <summary>What a linear evaluation measured.</summary>
/// <param name="TestAccuracy">Null when the test split was not read (<see cref="LinearEvalOptions.Test"/> false).</param>
public sealed record LinearEvalResult(string Mode, string Protocol, int Epochs, double? TestAccuracy, IReadOnlyList<double> ValAccuracy,
    IReadOnlyList<double> TrainLoss, int TrainImages, int? TestImages, double Seconds);
