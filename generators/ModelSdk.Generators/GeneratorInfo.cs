namespace ModelSdk.Generators
{
    /// <summary>Identity stamped on generated code; the analyzers recognise model classes by the tool name.</summary>
    internal static class GeneratorInfo
    {
        /// <summary>First argument of the emitted [GeneratedCode] attribute. Keep in sync with ModelSdk.Analyzers.</summary>
        public const string ToolName = "ModelSdk.Generators";

        /// <summary>Major.minor.patch of this assembly (the repository's ModelSdkVersion).</summary>
        public static readonly string Version =
            typeof(GeneratorInfo).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
    }
}
