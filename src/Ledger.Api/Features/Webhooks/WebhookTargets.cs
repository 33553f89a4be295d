using System.Net;
using System.Net.Sockets;
using Ledger.Api.Infrastructure;
using Microsoft.Extensions.Options;

namespace Ledger.Api.Features.Webhooks;

/// <summary>
/// Where deliveries may go: http and https URLs whose host resolves to public addresses only. A URL naming a private,
/// loopback, link-local, multicast, reserved or unspecified address (IPv4, IPv6, or IPv4 inside IPv6) is refused when
/// it is registered, and again on every connection, against the address the connection is actually made to: a host
/// whose DNS answer changes after registration (DNS rebinding) still cannot reach the inside. Redirects are not
/// followed and no proxy is used. <c>Ledger:Webhooks:AllowPrivateTargets</c> turns both checks off.
/// </summary>
public sealed class WebhookTargets(IOptions<WebhookOptions> options)
{
    public const int MaxUrlLength = 2000;
    private static readonly TimeSpan ResolveTimeout = TimeSpan.FromSeconds(5);

    public bool AllowPrivateTargets => options.Value.AllowPrivateTargets;

    /// <summary>Why <paramref name="url"/> is not a URL a webhook can have, or null (its host is checked by <see cref="CheckHostAsync"/>).</summary>
    public static string? SyntaxProblem(string url)
    {
        if (url.Length > MaxUrlLength) return $"must be at most {MaxUrlLength} characters.";
        if (url.Any(c => c is < '!' or > '~'))
            return "must be written in printable ASCII without spaces (punycode for international host names, percent-encoding elsewhere).";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri)) return "must be an absolute URL, such as https://example.com/ledger-events.";
        if (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp) return "must be an http or https URL.";
        if (uri.Host.Length == 0) return "must name a host.";
        if (uri.UserInfo.Length > 0) return "must not hold a user name or password (the signature authenticates each delivery).";
        if (uri.Fragment.Length > 0) return "must not have a fragment (#…).";
        return null;
    }

    /// <summary>
    /// Resolves the URL's host and throws a 400 on <c>url</c> unless every address it resolves to is public (or private
    /// targets are allowed, when nothing is resolved).
    /// </summary>
    public async Task CheckHostAsync(Uri uri, CancellationToken ct)
    {
        if (AllowPrivateTargets) return;
        IPAddress[] addresses;
        try
        {
            addresses = await ResolveAsync(uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6 ? uri.DnsSafeHost : uri.IdnHost, ct);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ArgumentException && !ct.IsCancellationRequested)
        {
            throw new ValidationFailedException("url", $"names a host that cannot be resolved ({uri.IdnHost}).");
        }
        foreach (var address in addresses)
            if (NonPublicKind(address) is { } kind)
                throw new ValidationFailedException("url", $"names {Describe(uri.IdnHost, address)}, {Article.A(kind)} address. Webhooks reach public " +
                                                         "addresses only (Ledger:Webhooks:AllowPrivateTargets allows others).");
        if (addresses.Length == 0) throw new ValidationFailedException("url", $"names a host that resolves to no address ({uri.IdnHost}).");
    }

    /// <summary>
    /// The connection of every delivery (<see cref="SocketsHttpHandler.ConnectCallback"/>): resolves the host itself and
    /// refuses unless every address is public, then connects to exactly those addresses.
    /// </summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = await ResolveAsync(host, ct);
        if (!AllowPrivateTargets)
            foreach (var address in addresses)
                if (NonPublicKind(address) is { } kind)
                    throw new WebhookTargetRefusedException($"Refused to connect: {Describe(host, address)} is {Article.A(kind)} address.");
        if (addresses.Length == 0) throw new WebhookTargetRefusedException($"{host} resolves to no address.");
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct)
    {
        var bare = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        if (IPAddress.TryParse(bare, out var literal)) return [literal];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(ResolveTimeout);
        return await Dns.GetHostAddressesAsync(bare, timeout.Token);
    }

    private static string Describe(string host, IPAddress address)
    {
        var text = address.ToString();
        return host.Trim('[', ']') == text ? text : $"{host} (resolving to {text})";
    }

    /// <summary>
    /// What kind of address this is when deliveries must not reach it (private, loopback, link-local, multicast, …), or
    /// null for a public unicast address. IPv4 carried in IPv6 (mapped, NAT64, 6to4) is judged as the IPv4 address.
    /// </summary>
    public static string? NonPublicKind(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        var b = address.GetAddressBytes();
        if (address.AddressFamily == AddressFamily.InterNetwork) return IPv4Kind(b);
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return "non-IP";

        if (b.All(x => x == 0)) return "unspecified";
        if (address.Equals(IPAddress.IPv6Loopback)) return "loopback";
        if (b.Take(12).All(x => x == 0)) return "reserved (IPv4-compatible)";
        // NAT64, well-known prefix 64:ff9b::/96: reaches the IPv4 address in its last 4 bytes.
        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b.Skip(4).Take(8).All(x => x == 0)) return IPv4Kind(b[12..]);
        // 6to4, 2002::/16: the IPv4 address follows the prefix.
        if (b[0] == 0x20 && b[1] == 0x02) return IPv4Kind(b[2..6]);
        if ((b[0] & 0xfe) == 0xfc) return "private (unique local)";
        if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return "link-local";
        if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return "private (site-local)";
        if (b[0] == 0xff) return "multicast";
        if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x00) return "reserved (Teredo)";
        if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return "reserved (documentation)";
        // Everything public is global unicast, 2000::/3; the rest (NAT64 local use, discard-only, …) is not for the internet.
        if ((b[0] & 0xe0) != 0x20) return "reserved";
        return null;
    }

    private static string? IPv4Kind(byte[] b) => (b[0], b[1], b[2]) switch
    {
        (0, _, _) => "unspecified",
        (10, _, _) => "private",
        (100, >= 64 and <= 127, _) => "private (shared, carrier-grade NAT)",
        (127, _, _) => "loopback",
        (169, 254, _) => "link-local",
        (172, >= 16 and <= 31, _) => "private",
        (192, 0, 0) => "reserved (IETF protocol assignments)",
        (192, 0, 2) or (198, 51, 100) or (203, 0, 113) => "reserved (documentation)",
        (192, 88, 99) => "reserved (6to4 relay)",
        (192, 168, _) => "private",
        (198, 18 or 19, _) => "reserved (benchmarking)",
        (>= 224 and <= 239, _, _) => "multicast",
        (>= 240, _, _) => "reserved",
        _ => null,
    };
}

/// <summary>A delivery's connection refused because its host resolved to an address webhooks must not reach.</summary>
public sealed class WebhookTargetRefusedException(string message) : Exception(message);
