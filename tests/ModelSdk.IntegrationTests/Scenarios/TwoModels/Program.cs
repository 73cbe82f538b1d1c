// Two Model items in one project: two generated classes, two artifacts, used side by side.
var greedy = new GenerationOptions { MaxTokens = 40, Temperature = 0 };
using var full = Stories15M.Load();
using var int8 = Stories15MInt8.Load();
Console.WriteLine(full.Generate("Once upon a time", greedy));
Console.WriteLine(int8.Generate("Once upon a time", greedy));
Console.WriteLine($"formats: {Stories15M.WeightFormat} {Stories15MInt8.WeightFormat}");
