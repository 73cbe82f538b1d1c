// A grouped-query-attention model through its generated class: the shape constants, then for each prompt argument
// the greedy token ids as run.c prints them (the prompt's tokens after BOS, then the generated ones), and whether
// Generate's text is the text of those ids.
Console.WriteLine($"heads: {Stories15MGqa.Heads} {Stories15MGqa.KvHeads}");
using var model = Stories15MGqa.Load();
var greedy = new GenerationOptions { MaxTokens = Stories15MGqa.ContextLength, Temperature = 0 };
foreach (var prompt in args)
{
    var tokens = model.Tokenize(prompt);
    var generated = model.Model.GenerateTokens(tokens, greedy).ToArray();
    Console.WriteLine(string.Join(' ', tokens[1..].Concat(generated)));
    Console.WriteLine($"same text: {model.Generate(prompt, greedy) == model.Decode(generated)}");
}
