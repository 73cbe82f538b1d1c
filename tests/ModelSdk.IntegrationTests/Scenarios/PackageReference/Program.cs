// The README's quick start, as a user writes it: no using directives, the class comes from the Model item.
using var model = Stories15M.Load();
Console.WriteLine(model.Generate("Once upon a time", new GenerationOptions { MaxTokens = 40, Temperature = 0 }));
Console.WriteLine($"shape: {Stories15M.Dim} {Stories15M.Layers} {Stories15M.VocabSize} {Stories15M.ContextLength}");
await foreach (var piece in model.GenerateStreamingAsync("The little robot", new() { Temperature = 0.8f, TopP = 0.9f, Seed = 42, MaxTokens = 20 }))
    Console.Write(piece);
Console.WriteLine();
