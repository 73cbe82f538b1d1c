// A model distilled at build time runs on the same generated class and kernels as any other.
using var model = Stories15M.Load();
Console.WriteLine(model.Generate("Once upon a time", new GenerationOptions { MaxTokens = 40, Temperature = 0 }));
Console.WriteLine(Stories15M.WeightFormat);
