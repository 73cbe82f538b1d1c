using ModelSdk.Analyzers;
using ModelSdk.Generators.Tests.Infrastructure;

namespace ModelSdk.Generators.Tests;

public sealed class ModelLoadPerRequestAnalyzerTests
{
    /// <summary>The ASP.NET Core types the analyzer knows, declared as the framework declares them (by full name).</summary>
    private const string AspNetCore = """
        namespace Microsoft.AspNetCore.Http { public class HttpContext { } public delegate System.Threading.Tasks.Task RequestDelegate(HttpContext context); }
        namespace Microsoft.AspNetCore.Mvc { public abstract class ControllerBase { } public abstract class Controller : ControllerBase { } }
        namespace Microsoft.AspNetCore.Mvc.RazorPages { public abstract class PageModel { } }
        namespace Microsoft.AspNetCore.SignalR { public abstract class Hub { } }
        namespace Microsoft.AspNetCore.Routing { public interface IEndpointRouteBuilder { } }
        namespace Microsoft.AspNetCore.Builder
        {
            public static class EndpointRouteBuilderExtensions
            {
                public static object MapGet(this Microsoft.AspNetCore.Routing.IEndpointRouteBuilder endpoints, string pattern, System.Delegate handler) => handler;
                public static object MapPost(this Microsoft.AspNetCore.Routing.IEndpointRouteBuilder endpoints, string pattern, System.Delegate handler) => handler;
            }
        }
        """;

    private static Task VerifyAsync(string code) => AnalyzerHarness.VerifyAsync(new ModelLoadPerRequestAnalyzer(), "MSDK2105", $$"""
        using System;
        using System.Threading.Tasks;
        using Microsoft.AspNetCore.Builder;
        using Microsoft.AspNetCore.Http;
        using TinyStories;

        {{code}}

        {{AspNetCore}}
        """);

    [Fact]
    public Task PerRequestPlaces_Report() => VerifyAsync("""
        public sealed class StoryController : Microsoft.AspNetCore.Mvc.Controller
        {
            private readonly Stories15M _model = [|Stories15M.Load()|];
            public StoryController() { [|Stories15M.Load()|].Dispose(); }
            public string Get(string prompt) { using var model = [|Stories15M.Load()|]; return model.Generate(prompt); }
        }

        public sealed class IndexModel : Microsoft.AspNetCore.Mvc.RazorPages.PageModel
        {
            public void OnGet() { using var model = [|Stories15M.Load()|]; }
        }

        public sealed class StoryHub : Microsoft.AspNetCore.SignalR.Hub
        {
            public string Tell(string prompt) { using var model = [|Stories15M.Load()|]; return model.Generate(prompt); }
        }

        public sealed class StoryMiddleware
        {
            public async Task InvokeAsync(HttpContext context) { using var model = [|Stories15M.Load()|]; await Task.Yield(); }
        }

        public static class Endpoints
        {
            public static void Map(Microsoft.AspNetCore.Routing.IEndpointRouteBuilder app)
            {
                app.MapGet("/story", (string prompt) => { using var model = [|Stories15M.Load()|]; return model.Generate(prompt); });
                app.MapPost("/story", async (string prompt) => { await Task.Yield(); using var model = [|Stories15M.Load()|]; return model.Generate(prompt); });
            }
        }
        """);

    [Fact]
    public Task OnceOnlyPlaces_DoNotReport() => VerifyAsync("""
        public sealed class StoryController : Microsoft.AspNetCore.Mvc.ControllerBase
        {
            private static readonly Lazy<Stories15M> Shared = new(() => Stories15M.Load());
            private static readonly Stories15M Model = Stories15M.Load();
            static StoryController() { Stories15M.Load().Dispose(); }
            public static Stories15M Create() => Stories15M.Load();
            public string Get(string prompt) => Shared.Value.Generate(prompt) + Model.Generate(prompt);
        }

        public sealed class Worker
        {
            public void Invoke(string notAContext) { using var model = Stories15M.Load(); }
            public void Run() { using var model = Stories15M.Load(); }
        }

        public static class Startup
        {
            public static void Map(Microsoft.AspNetCore.Routing.IEndpointRouteBuilder app)
            {
                var model = Stories15M.Load();
                app.MapGet("/story", (string prompt) => model.Generate(prompt));
                Func<Stories15M> factory = () => Stories15M.Load();
            }
        }
        """);

    [Fact]
    public Task OutsideWebApps_DoesNotReport() => AnalyzerHarness.VerifyAsync(new ModelLoadPerRequestAnalyzer(), "MSDK2105", """
        public sealed class App
        {
            public void Invoke() { using var model = TinyStories.Stories15M.Load(); }
        }
        """);
}
