namespace ModelSdk.Distillation.Training;

/// <summary>How long and how a student is trained against its teacher.</summary>
/// <param name="Steps">Optimizer steps.</param>
/// <param name="LearningRate">Adam's learning rate (constant after a short warm-up, then cosine decay to a tenth).</param>
/// <param name="BatchSize">Windows per step.</param>
/// <param name="SequenceLength">Tokens per window.</param>
/// <param name="Temperature">Softmax temperature of the distillation loss.</param>
/// <param name="CrossEntropyWeight">Weight of the next-token loss in the mix (0: pure distillation).</param>
/// <param name="Seed">Seeds the batch order: the same seed gives the same student.</param>
/// <param name="TrainEmbedding">Also train the token embedding / classifier (its vocabulary rows see only the training text's tokens).</param>
public sealed record DistillationSettings(
    int Steps = 200,
    double LearningRate = 1e-4,
    int BatchSize = 4,
    int SequenceLength = 128,
    double Temperature = 1.0,
    double CrossEntropyWeight = 0.0,
    int Seed = 0,
    bool TrainEmbedding = false);
