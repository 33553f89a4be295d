using System.Text.Json;
using System.Text.Json.Serialization;
using Ledger.Api.Features.Accounts;
using Ledger.Api.Features.ApiKeys;
using Ledger.Api.Features.Books;
using Ledger.Api.Features.Health;
using Ledger.Api.Features.Journal;
using Ledger.Api.Features.Periods;
using Ledger.Api.Features.Reports;

namespace Ledger.Api.Infrastructure;

/// <summary>
/// Source-generated JSON metadata for every request and response, so (de)serialization does no reflection.
/// Unknown properties are refused: a client cannot set fields the API does not document.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    NumberHandling = JsonNumberHandling.Strict, AllowDuplicateProperties = false)]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(CreateBookRequest))]
[JsonSerializable(typeof(BookResponse))]
[JsonSerializable(typeof(BookResponse[]))]
[JsonSerializable(typeof(CreateApiKeyRequest))]
[JsonSerializable(typeof(ApiKeyResponse[]))]
[JsonSerializable(typeof(CreatedApiKeyResponse))]
[JsonSerializable(typeof(CreateAccountRequest))]
[JsonSerializable(typeof(UpdateAccountRequest))]
[JsonSerializable(typeof(AccountResponse))]
[JsonSerializable(typeof(AccountResponse[]))]
[JsonSerializable(typeof(PostJournalEntryRequest))]
[JsonSerializable(typeof(ReverseJournalEntryRequest))]
[JsonSerializable(typeof(JournalEntryResponse))]
[JsonSerializable(typeof(JournalEntryPage))]
[JsonSerializable(typeof(PostJournalEntryBatchRequest))]
[JsonSerializable(typeof(JournalEntryBatchResponse))]
[JsonSerializable(typeof(TrialBalanceResponse))]
[JsonSerializable(typeof(UpdateBookRequest))]
[JsonSerializable(typeof(BalanceSheetResponse))]
[JsonSerializable(typeof(IncomeStatementResponse))]
[JsonSerializable(typeof(AccountLedgerResponse))]
[JsonSerializable(typeof(GeneralLedgerResponse))]
[JsonSerializable(typeof(SetLockDateRequest))]
[JsonSerializable(typeof(LockDateResponse))]
[JsonSerializable(typeof(LockDateHistoryResponse))]
[JsonSerializable(typeof(YearEndCloseRequest))]
[JsonSerializable(typeof(YearEndCloseList))]
[JsonSerializable(typeof(Microsoft.AspNetCore.Mvc.ProblemDetails))]
[JsonSerializable(typeof(HttpValidationProblemDetails))]
public sealed partial class LedgerJsonContext : JsonSerializerContext;
