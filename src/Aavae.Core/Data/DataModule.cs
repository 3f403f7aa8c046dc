using Aavae.Configuration;

namespace Aavae.Data;

/// <summary>
/// The splits of one data set (the reference's src/datamodules): what pre-training trains and validates on, and
/// the labelled train / validation / test sets of linear evaluation.
/// </summary>
public sealed class DataModule(
    DatasetInfo info, IImageSource pretrainTrain, IImageSource pretrainVal,
    IImageSource train, IImageSource val, IImageSource test, params IDisposable[] owned) : IDisposable
{
    public DatasetInfo Info { get; } = info;
    /// <summary>What pre-training trains on (STL-10: the unlabelled images).</summary>
    public IImageSource PretrainTrain { get; } = pretrainTrain;
    public IImageSource PretrainVal { get; } = pretrainVal;
    /// <summary>The labelled images linear evaluation trains on.</summary>
    public IImageSource Train { get; } = train;
    public IImageSource Val { get; } = val;
    public IImageSource Test { get; } = test;

    /// <param name="dataDir">Where the data set lives; null uses the shipped Fashion-MNIST.</param>
    public static DataModule Load(string dataset, string? dataDir)
    {
        var info = DatasetInfo.Get(dataset);
        switch (info.Name)
        {
            case "fashion-mnist":
            {
                var dir = dataDir ?? FashionMnist.ShippedDirectory;
                var train = FashionMnist.Load(dir, train: true);
                var test = FashionMnist.Load(dir, train: false);
                var (tr, va) = Splits.RandomSplit(train, FashionMnist.ValCount);
                return new DataModule(info, tr, va, tr, va, test, train, test);
            }
            case "cifar10":
            {
                var dir = Require(dataDir, info);
                var train = Cifar10.Load(dir, train: true);
                var test = Cifar10.Load(dir, train: false);
                var (tr, va) = Splits.RandomSplit(train, Cifar10.ValCount);
                return new DataModule(info, tr, va, tr, va, test, train, test);
            }
            case "stl10":
            {
                var dir = Require(dataDir, info);
                var unlabeled = Stl10Source.Open(dir, "unlabeled");
                var train = Stl10Source.Open(dir, "train");
                var test = Stl10Source.Open(dir, "test");
                var (ptr, pva) = Splits.RandomSplit(unlabeled, Stl10Source.UnlabeledValCount);
                var (tr, va) = Splits.RandomSplit(train, Stl10Source.LabeledValCount);
                return new DataModule(info, ptr, pva, tr, va, test, unlabeled, train, test);
            }
            case "folder":
                throw new OptionException("Dataset", "folder: a picture folder loads with its size and statistics (PictureFolderData)");
            default:
            {
                // ImageNet layout: <dir>/train/<class>/..., <dir>/val/<class>/... (the official validation set is the test set).
                var dir = Require(dataDir, info);
                var train = new ImageFolderSource(Path.Combine(dir, "train"), info.InputHeight);
                var test = new ImageFolderSource(Path.Combine(dir, "val"), info.InputHeight);
                var (tr, va) = HoldOutPerClass(train, 50);
                return new DataModule(info with { NumClasses = train.NumClasses }, tr, va, tr, va, test);
            }
        }
    }

    private static string Require(string? dataDir, DatasetInfo info) =>
        dataDir ?? throw new OptionException("DataDir", $"is required for {info.Name}");

    /// <summary>numpy's seed in the reference's SSLImagenet (src/datamodules/imagenet_dataset.py).</summary>
    public const uint ImageNetSplitSeed = 1234;

    /// <summary>
    /// The reference's ImageNet split (SSLImagenet): the file list (sorted, as torchvision's
    /// ImageFolder) shuffled by <c>np.random.seed(1234); np.random.shuffle</c>, then the first
    /// <paramref name="perClass"/> images of each class in that order validate, the rest train.
    /// </summary>
    public static (SubsetSource Train, SubsetSource Val) HoldOutPerClass(ImageFolderSource source, int perClass)
    {
        var order = Enumerable.Range(0, source.Count).Select(i => (long)i).ToList();
        new NumpyRandomState(ImageNetSplitSeed).Shuffle(order);
        var taken = new int[source.NumClasses];
        var train = new List<long>();
        var val = new List<long>();
        foreach (var i in order)
        {
            int label = source.LabelOf((int)i);
            if (taken[label] < perClass) { taken[label]++; val.Add(i); }
            else train.Add(i);
        }
        if (train.Count == 0) throw new InvalidDataException($"{source.Name}: too few images to hold out {perClass} per class for validation");
        return (new SubsetSource(source, train.ToArray(), $"{source.Name} (train split)"), new SubsetSource(source, val.ToArray(), $"{source.Name} (val split)"));
    }

    public void Dispose()
    {
        foreach (var d in owned) d.Dispose();
    }
}
