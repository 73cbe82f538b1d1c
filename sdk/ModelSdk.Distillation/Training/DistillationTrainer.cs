using System.Diagnostics;
using System.Globalization;
using ModelSdk.Compression.Passes;
using ModelSdk.Distillation.Student;
using TorchSharp;
using static TorchSharp.torch;

namespace ModelSdk.Distillation.Training;

/// <summary>The result of a training run: its first loss and the mean of its last (up to ten) losses.</summary>
public sealed record DistillationRun(int Steps, double FirstLoss, double FinalLoss, long Tokens);

/// <summary>
/// Trains a student's parameters with Adam against a frozen teacher's logits (<see cref="DistillationLoss"/>).
/// Logs step, loss and tokens/s after the first step and about twenty times per run; checks for cancellation before every step.
/// </summary>
public static class DistillationTrainer
{
    private const int WarmupSteps = 10;

    public static DistillationRun Train(TorchLlama student, TorchLlama teacher, TokenWindows data, DistillationSettings settings, string passName,
        PassContext context)
    {
        if (student.Parameters.Count == 0) throw new ArgumentException("The student has nothing to train.", nameof(student));
        var loss = new DistillationLoss(settings.Temperature, settings.CrossEntropyWeight);
        using var optimizer = optim.Adam(student.Parameters, settings.LearningRate);
        var logEvery = Math.Max(1, settings.Steps / 20);
        var recent = new Queue<double>();
        double first = double.NaN, windowLoss = 0;
        var windowSteps = 0;
        var clock = Stopwatch.StartNew();
        long tokens = 0;
        for (var step = 1; step <= settings.Steps; step++)
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            foreach (var group in optimizer.ParamGroups) group.LearningRate = LearningRate(settings, step);
            using var scope = NewDisposeScope();
            var (inputs, targets) = data.Next(settings.BatchSize);
            Tensor teacherLogits;
            using (no_grad()) teacherLogits = teacher.Forward(inputs);
            var value = loss.Compute(student.Forward(inputs), teacherLogits, targets);
            optimizer.zero_grad();
            value.backward();
            optimizer.step();

            var current = value.item<float>();
            if (!double.IsFinite(current)) throw new InvalidOperationException($"{passName}: the loss diverged at step {step}; lower LearningRate.");
            if (step == 1) first = current;
            recent.Enqueue(current);
            if (recent.Count > 10) recent.Dequeue();
            tokens += inputs.numel();
            windowLoss += current;
            windowSteps++;
            if (step == 1 || step % logEvery == 0 || step == settings.Steps)
            {
                var seconds = clock.Elapsed.TotalSeconds;
                context.Log(string.Create(CultureInfo.InvariantCulture,
                    $"{passName}: step {step}/{settings.Steps}, loss {windowLoss / windowSteps:0.0000}, {tokens / Math.Max(seconds, 1e-9):0} tokens/s"));
                windowLoss = 0;
                windowSteps = 0;
            }
        }
        return new DistillationRun(settings.Steps, first, recent.Average(), tokens);
    }

    /// <summary>Linear warm-up over the first steps, then cosine decay to a tenth of the rate at the last step.</summary>
    private static double LearningRate(DistillationSettings settings, int step)
    {
        var warmup = Math.Min(WarmupSteps, Math.Max(1, settings.Steps / 10));
        if (step <= warmup) return settings.LearningRate * step / warmup;
        var progress = (step - warmup) / (double)Math.Max(1, settings.Steps - warmup);
        return settings.LearningRate * (0.1 + 0.9 * 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }
}
