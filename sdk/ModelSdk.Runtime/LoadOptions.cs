namespace ModelSdk;

/// <summary>How a language model is loaded.</summary>
public sealed class LoadOptions
{
    /// <summary>Threads one forward pass uses (the caller's thread included); null uses <see cref="Environment.ProcessorCount"/>.</summary>
    public int? Threads { get; set; }

    /// <summary>
    /// Where the model runs: <see cref="ModelDevice.Auto"/> (the default) picks a CUDA GPU when one is present, else the CPU;
    /// <see cref="ModelDevice.Cuda"/> without a usable GPU fails with MSDK2005. <c>LanguageModel.Device</c> says which ran.
    /// </summary>
    public ModelDevice Device { get; set; } = ModelDevice.Auto;

    /// <summary>
    /// On a GPU, store fp32 weights as fp16 (converted once at upload): half the device memory and half the bytes each token
    /// reads, so decode runs up to twice as fast; logits differ from fp32 by about 1e-3 relative. Ignored on the CPU.
    /// </summary>
    public bool GpuHalfPrecision { get; set; }
}
