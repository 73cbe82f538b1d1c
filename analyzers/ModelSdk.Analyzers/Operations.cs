using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace ModelSdk.Analyzers
{
    /// <summary>Small walks over the operation tree that several analyzers share.</summary>
    internal static class Operations
    {
        /// <summary>The operation under any implicit or explicit conversions.</summary>
        public static IOperation WithoutConversions(this IOperation operation)
        {
            while (operation is IConversionOperation conversion) operation = conversion.Operand;
            return operation;
        }

        /// <summary>The first parent that is not a conversion or parentheses.</summary>
        public static IOperation? SignificantParent(this IOperation operation)
        {
            IOperation? parent = operation.Parent;
            while (parent is IConversionOperation or IParenthesizedOperation) parent = parent.Parent;
            return parent;
        }

        /// <summary>The body the operation belongs to (a method body, a field initializer, ...).</summary>
        public static IOperation Root(this IOperation operation)
        {
            while (operation.Parent is not null) operation = operation.Parent;
            return operation;
        }

        /// <summary>The call a lambda is passed to as an argument (through its delegate creation), or null.</summary>
        public static IInvocationOperation? CallTakingLambda(IAnonymousFunctionOperation lambda)
        {
            IOperation? parent = lambda.Parent;
            while (parent is IDelegateCreationOperation or IConversionOperation) parent = parent.Parent;
            return parent is IArgumentOperation { Parent: IInvocationOperation call } ? call : null;
        }
    }
}
