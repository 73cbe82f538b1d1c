using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ModelSdk.Distillation.Training;

/// <summary>
/// Logit distillation (Hinton et al., 2015): T² · KL(softmax(teacher/T) ‖ softmax(student/T)) per position, optionally
/// mixed with the next-token cross-entropy of the student: (1 − w) · distillation + w · cross-entropy.
/// </summary>
public sealed record DistillationLoss(double Temperature, double CrossEntropyWeight)
{
    /// <summary>The mean loss over all positions; logits are [batch, length, vocab], targets [batch, length].</summary>
    public Tensor Compute(Tensor studentLogits, Tensor teacherLogits, Tensor targets)
    {
        var vocab = studentLogits.shape[^1];
        var student = studentLogits.reshape(-1, vocab);
        var teacher = teacherLogits.reshape(-1, vocab);
        var teacherLogProbs = F.log_softmax(teacher / Temperature, 1);
        var studentLogProbs = F.log_softmax(student / Temperature, 1);
        var kl = (teacherLogProbs.exp() * (teacherLogProbs - studentLogProbs)).sum(1).mean() * (Temperature * Temperature);
        if (CrossEntropyWeight == 0) return kl;
        var crossEntropy = F.cross_entropy(student, targets.reshape(-1));
        return kl * (1 - CrossEntropyWeight) + crossEntropy * CrossEntropyWeight;
    }
}
