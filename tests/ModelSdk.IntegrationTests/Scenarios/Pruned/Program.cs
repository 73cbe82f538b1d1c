// A 2:4-pruned model: the generated class runs its compressed 2:4 matrices like any other.
using var model = Stories15M.Load();
Console.WriteLine(Stories15M.WeightFormat);
Console.WriteLine(model.Generate("Once upon a time", new GenerationOptions { MaxTokens = 40, Temperature = 0 }));
