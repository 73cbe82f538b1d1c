namespace ModelSdk;

/// <summary>Where a model runs (<see cref="LoadOptions.Device"/>).</summary>
public enum ModelDevice
{
    /// <summary>A CUDA GPU when one is present, else the CPU; <c>LanguageModel.Device</c> says which was picked.</summary>
    Auto,

    /// <summary>The CPU (managed SIMD kernels).</summary>
    Cpu,

    /// <summary>A CUDA GPU (ILGPU kernels); loading fails with MSDK2005 when none is available — never a silent fallback.</summary>
    Cuda,
}
