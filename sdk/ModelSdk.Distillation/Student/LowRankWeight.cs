using ModelSdk.Compression.Passes;
using ModelSdk.Compression.Passes.Structural;
using TorchSharp;
using static TorchSharp.torch;

namespace ModelSdk.Distillation.Student;

/// <summary>
/// A matrix the low-rank pass factored, W = B · A: the two factors are the parameters, so training keeps the rank, and
/// the trained factors go back with <see cref="WorkingModel.SetLowRank"/> (stored as their product).
/// </summary>
public sealed class LowRankWeight : StudentWeight
{
    private readonly LowRankFactors _shape;
    private readonly TorchSharp.Modules.Parameter _b, _a;

    public LowRankWeight(string name, LowRankFactors factors, bool trainable) : base(name)
    {
        _shape = factors;
        using var b = tensor(factors.B, [factors.Rows, factors.Rank]);
        using var a = tensor(factors.A, [factors.Rank, factors.Cols]);
        _b = new TorchSharp.Modules.Parameter(b.clone(), requires_grad: trainable);
        _a = new TorchSharp.Modules.Parameter(a.clone(), requires_grad: trainable);
        Parameters = trainable ? [_b, _a] : [];
    }

    public override IReadOnlyList<TorchSharp.Modules.Parameter> Parameters { get; }

    public override Tensor Value() => _b.matmul(_a);

    public override void ExportTo(WorkingModel model)
        => model.SetLowRank(Name, new LowRankFactors(_shape.Rows, _shape.Cols, _shape.Rank,
            _b.detach().cpu().data<float>().ToArray(), _a.detach().cpu().data<float>().ToArray()));

    public override void Dispose()
    {
        _b.Dispose();
        _a.Dispose();
    }
}
