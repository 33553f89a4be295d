using FluentValidation;
using FluentValidation.Results;
using Ledger.Api.Infrastructure;
using Ledger.Domain;
using Microsoft.AspNetCore.Mvc;

namespace Ledger.Api.Features.Documents;

/// <summary>The four kinds of document: what each posts, to whom, and how it is numbered.</summary>
public enum DocumentKind
{
    Invoice,
    CreditNote,
    Bill,
    VendorCredit,
}

public static class DocumentKinds
{
    public static string ToName(this DocumentKind kind) => kind switch
    {
        DocumentKind.Invoice => "invoice",
        DocumentKind.CreditNote => "credit_note",
        DocumentKind.Bill => "bill",
        _ => "vendor_credit",
    };

    public static DocumentKind? FromName(string name) => name switch
    {
        "invoice" => DocumentKind.Invoice,
        "credit_note" => DocumentKind.CreditNote,
        "bill" => DocumentKind.Bill,
        "vendor_credit" => DocumentKind.VendorCredit,
        _ => null,
    };

    /// <summary>In words, for messages ("credit note").</summary>
    public static string Words(this DocumentKind kind) => kind.ToName().Replace('_', ' ');

    public static PartyKind Party(this DocumentKind kind) =>
        kind is DocumentKind.Invoice or DocumentKind.CreditNote ? PartyKind.Customer : PartyKind.Vendor;

    /// <summary>The kind a correction corrects: a credit note an invoice, a vendor credit a bill.</summary>
    public static DocumentKind? Corrects(this DocumentKind kind) => kind switch
    {
        DocumentKind.CreditNote => DocumentKind.Invoice,
        DocumentKind.VendorCredit => DocumentKind.Bill,
        _ => null,
    };

    /// <summary>
    /// The side the document's gross takes on the control account: an invoice is owed to the book (a debit on
    /// receivables), a credit note takes that back; a bill is owed by the book (a credit on payables), a vendor credit
    /// takes that back. Lines and tax take the other side.
    /// </summary>
    public static Side ControlSide(this DocumentKind kind) =>
        kind is DocumentKind.Invoice or DocumentKind.VendorCredit ? Side.Debit : Side.Credit;

    public static string NumberPrefix(this DocumentKind kind) => kind switch
    {
        DocumentKind.Invoice => "INV-",
        DocumentKind.CreditNote => "CN-",
        DocumentKind.Bill => "BILL-",
        _ => "VC-",
    };

    public static string Route(this DocumentKind kind) => kind switch
    {
        DocumentKind.Invoice => "invoices",
        DocumentKind.CreditNote => "credit-notes",
        DocumentKind.Bill => "bills",
        _ => "vendor-credits",
    };
}

public sealed record DocumentLineRequest(string? Description, string? Quantity, string? UnitPrice, string? Account, string? TaxRate);

/// <summary>
/// An invoice, bill, credit note or vendor credit as sent: to create a draft (and, with "issue": true, issue it at once)
/// or to replace a draft. Customer documents name "customer" (a credit note may name the "invoice" it corrects), vendor
/// documents "vendor" (a vendor credit may name the "bill"); a bill carries the vendor's own number as "vendorReference".
/// </summary>
public sealed record DocumentRequest
{
    public long? Customer { get; init; }
    public long? Vendor { get; init; }
    public string? Date { get; init; }
    public string? DueDate { get; init; }
    public string? Reference { get; init; }
    public string? VendorReference { get; init; }
    public string? AmountsAre { get; init; }
    public long? Invoice { get; init; }
    public long? Bill { get; init; }
    public IReadOnlyList<DocumentLineRequest?>? Lines { get; init; }
    public bool? Issue { get; init; }
}

/// <summary>Voiding a document: its reversal is dated the document's date unless a later date is given.</summary>
public sealed record VoidRequest(string? Date);

public sealed record DocumentListQuery(
    [property: FromQuery(Name = "customer")] long? Customer,
    [property: FromQuery(Name = "vendor")] long? Vendor,
    [property: FromQuery(Name = "status")] string? Status,
    [property: FromQuery(Name = "from")] string? From,
    [property: FromQuery(Name = "to")] string? To,
    [property: FromQuery(Name = "overdue")] bool? Overdue,
    [property: FromQuery(Name = "limit")] int? Limit,
    [property: FromQuery(Name = "cursor")] string? Cursor);

/// <summary>
/// The shape of a document request. Which party field it needs depends on the route (an invoice a customer, a bill a
/// vendor), so the endpoint checks that; everything that does not depend on the book is checked here.
/// </summary>
public sealed class DocumentRequestValidator : AbstractValidator<DocumentRequest>
{
    public const int MaxLines = 500;

    public DocumentRequestValidator()
    {
        RuleFor(x => x.Date).NotEmpty().Must(d => DateText.TryParseDate(d, out _)).WithMessage("must be a calendar date written YYYY-MM-DD.");
        RuleFor(x => x.DueDate).Must(d => DateText.TryParseDate(d, out _)).When(x => x.DueDate is not null)
            .WithMessage("must be a calendar date written YYYY-MM-DD.");
        RuleFor(x => x.DueDate).Must((x, due) => !DateText.TryParseDate(x.Date, out var date) || !DateText.TryParseDate(due, out var d) || d >= date)
            .When(x => x.DueDate is not null).WithMessage("must be on or after date.");
        RuleFor(x => x.Reference).MaximumLength(255);
        RuleFor(x => x.VendorReference).MaximumLength(255);
        RuleFor(x => x.AmountsAre).Must(a => a is null || AmountsAreText.TryParse(a, out _)).WithMessage("must be 'exclusive' or 'inclusive'.");
        RuleFor(x => x.Vendor).Null().When(x => x.Customer is not null).WithMessage("A document names a customer or a vendor, not both.");
        RuleFor(x => x.Lines).NotNull().WithMessage("A document needs lines.")
            .Must(l => l!.Count is >= 1 and <= MaxLines).When(x => x.Lines is not null).WithMessage($"A document has from 1 to {MaxLines} lines.");
        RuleFor(x => x.Lines).Custom((lines, context) =>
        {
            for (var i = 0; i < lines!.Count; i++)
            {
                void Fail(string field, string message) => context.AddFailure(new ValidationFailure($"lines[{i}].{field}", message));
                if (lines[i] is not { } line)
                {
                    context.AddFailure(new ValidationFailure($"lines[{i}]", $"'lines[{i}]' must not be null."));
                    continue;
                }
                if (string.IsNullOrWhiteSpace(line.Description)) Fail("description", "'description' must not be empty.");
                else if (line.Description.Length > 1000) Fail("description", "must be at most 1000 characters.");
                if (line.Quantity is not null && !Quantity.TryParse(line.Quantity, out _, out var quantityError)) Fail("quantity", quantityError!);
                if (line.UnitPrice is null) Fail("unitPrice", "'unitPrice' must not be empty.");
                else if (!UnitPrice.TryParse(line.UnitPrice, out _, out var priceError)) Fail("unitPrice", priceError!);
                if (string.IsNullOrEmpty(line.Account)) Fail("account", "'account' must not be empty.");
                else if (line.Account.Length > 32) Fail("account", "must be at most 32 characters.");
                if (line.TaxRate is { Length: 0 or > 32 }) Fail("taxRate", "must be a tax rate's code (1 to 32 characters).");
            }
        }).When(x => x.Lines is { Count: >= 1 and <= MaxLines });
    }
}

public sealed class VoidRequestValidator : AbstractValidator<VoidRequest>
{
    public VoidRequestValidator() =>
        RuleFor(x => x.Date).Must(d => DateText.TryParseDate(d, out _)).When(x => x.Date is not null)
            .WithMessage("must be a calendar date written YYYY-MM-DD.");
}

public sealed class DocumentListQueryValidator : AbstractValidator<DocumentListQuery>
{
    public static readonly string[] Statuses = ["draft", "open", "partiallyPaid", "paid", "void"];

    public DocumentListQueryValidator()
    {
        RuleFor(x => x.Status).Must(s => s is null || Statuses.Contains(s)).WithMessage($"must be one of: {string.Join(", ", Statuses)}.");
        RuleFor(x => x.From).Must(d => d is null || DateText.TryParseDate(d, out _)).WithMessage("must be a date written YYYY-MM-DD.");
        RuleFor(x => x.To).Must(d => d is null || DateText.TryParseDate(d, out _)).WithMessage("must be a date written YYYY-MM-DD.");
        RuleFor(x => x.Limit).GreaterThanOrEqualTo(1).WithMessage("must be at least 1.");
        RuleFor(x => x.Cursor).IsIdCursor();
    }
}
