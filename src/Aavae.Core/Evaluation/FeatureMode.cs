using Aavae.Configuration;
using Aavae.Data;

namespace Aavae.Evaluation;

/// <summary>
/// How the linear layer's training set is presented. <c>augmented</c>: the frozen encoder sees a
/// fresh training view every epoch, shuffled (the reference's linear_eval.py for CIFAR-10:
/// RandomCrop with reflect padding and a flip; RandomResizedCrop and a flip elsewhere).
/// <c>cached</c>: each split is encoded once through the evaluation transform and the same linear
/// layer trains on those features, shuffled: far faster on a CPU, usually a little less accurate.
/// <c>unshuffled</c>: cached features in the split's own order every epoch, which is what the
/// reference runs for STL-10 (linear_eval.py trains on <c>train_dataloader_labeled</c>, whose
/// data set uses the validation transform and <c>shuffle=False</c>; its RandomResizedCrop
/// transform is never used) and where the published 84.72% comes from.
/// </summary>
public enum FeatureMode { Augmented, Cached, Unshuffled }

public static class FeatureModes
{
    public static string Name(this FeatureMode mode) => SettingValues.Name(mode);

    public static FeatureMode Parse(string mode) => SettingValues.Parse<FeatureMode>(mode, nameof(LinearEvalOptions.Features));

    /// <summary>The reference's protocol for a data set: unshuffled cached features for STL-10, augmented views otherwise.</summary>
    public static FeatureMode DefaultFor(DatasetInfo dataset) =>
        dataset.LinearEvalUnshuffled ? FeatureMode.Unshuffled : FeatureMode.Augmented;

    /// <summary>One line a result carries, so that a reader knows which protocol produced it.</summary>
    public static string Describe(this FeatureMode mode) => mode switch
    {
        FeatureMode.Augmented => "a fresh augmented training view every epoch, shuffled",
        FeatureMode.Cached => "features encoded once through the evaluation transform, shuffled",
        _ => "features encoded once through the evaluation transform, in the split's fixed order (the reference's STL-10 protocol)",
    };

    public static bool IsCached(this FeatureMode mode) => mode != FeatureMode.Augmented;
}
