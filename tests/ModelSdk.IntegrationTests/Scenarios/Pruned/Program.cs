// A 2:4-pruned model: the generated class runs its compressed 2:4 matrices like any other.
using var model = Stories15M.Load();
Console.WriteLine(model.Generate("Once upon a time", new GenerationOptions { MaxTokens = 40, Temperature = 0 }));
Console.WriteLine(Stories15M.WeightFormat);
