// A quantized model with the quality the build measured: the class exposes it as constants.
using var model = Stories15M.Load();
Console.WriteLine(model.Generate("Once upon a time", new GenerationOptions { MaxTokens = 40, Temperature = 0 }));
Console.WriteLine($"{Stories15M.WeightFormat} perplexity {Stories15M.Quality.Perplexity:F4} vs {Stories15M.Quality.ReferencePerplexity:F4} on {Stories15M.Quality.Tokens} tokens");
