using System.Collections;

namespace Aavae.Optimization;

/// <summary>
/// What the trainer needs of an optimizer: set the scheduled learning rate, step, and save or
/// restore its state in PyTorch's <c>optimizer.state_dict()</c> layout
/// (<c>{"state": {i: {...}}, "param_groups": [...]}</c>), so checkpoints resume exactly and read in Python.
/// </summary>
public interface IStepOptimizer : IDisposable
{
    /// <summary>Sets the learning rate of every parameter group.</summary>
    void SetLearningRate(double lr);

    void ZeroGrad();

    void Step();

    Dictionary<string, object> StateDict();

    /// <summary>Restores a state written by <see cref="StateDict"/>; throws <see cref="InvalidDataException"/> when it does not fit.</summary>
    void LoadStateDict(IDictionary state);
}
