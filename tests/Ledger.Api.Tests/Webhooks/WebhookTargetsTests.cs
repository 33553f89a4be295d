using System.Net;
using System.Text;
using Ledger.Api.Features.Webhooks;

namespace Ledger.Api.Tests.Webhooks;

/// <summary>Which addresses deliveries may reach, which URLs a webhook may have, and the signature, without an app.</summary>
public sealed class WebhookTargetsTests
{
    [Theory]
    [InlineData("127.0.0.1", "loopback")]
    [InlineData("127.255.0.9", "loopback")]
    [InlineData("10.0.0.1", "private")]
    [InlineData("172.16.5.4", "private")]
    [InlineData("172.31.255.255", "private")]
    [InlineData("192.168.1.1", "private")]
    [InlineData("100.64.0.1", "private")]
    [InlineData("169.254.169.254", "link-local")]
    [InlineData("0.0.0.0", "unspecified")]
    [InlineData("224.0.0.251", "multicast")]
    [InlineData("255.255.255.255", "reserved")]
    [InlineData("192.0.2.10", "reserved")]
    [InlineData("::", "unspecified")]
    [InlineData("::1", "loopback")]
    [InlineData("::ffff:127.0.0.1", "loopback")]
    [InlineData("::ffff:10.0.0.1", "private")]
    [InlineData("::ffff:169.254.169.254", "link-local")]
    [InlineData("::127.0.0.1", "reserved")]
    [InlineData("64:ff9b::7f00:1", "loopback")]
    [InlineData("2002:a00:1::1", "private")]
    [InlineData("fd12:3456::1", "private")]
    [InlineData("fe80::1", "link-local")]
    [InlineData("fec0::1", "private")]
    [InlineData("ff02::1", "multicast")]
    [InlineData("2001:db8::1", "reserved")]
    [InlineData("2001:0:4136:e378:8000:63bf:3fff:fdd2", "reserved")]
    public void Private_loopback_link_local_multicast_reserved_and_unspecified_addresses_are_not_public(string address, string kind)
    {
        var found = WebhookTargets.NonPublicKind(IPAddress.Parse(address));
        Assert.NotNull(found);
        Assert.StartsWith(kind, found);
    }

    [Theory]
    [InlineData("93.184.215.14")]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("100.128.0.1")]
    [InlineData("::ffff:93.184.215.14")]
    [InlineData("64:ff9b::808:808")]
    [InlineData("2606:2800:21f:cb07:6820:80da:af6b:8b2c")]
    [InlineData("2002:808:808::1")]
    public void Public_addresses_are_public(string address) => Assert.Null(WebhookTargets.NonPublicKind(IPAddress.Parse(address)));

    [Theory]
    [InlineData("https://example.com/hooks/ledger?token=abc", true)]
    [InlineData("http://example.com:8080/", true)]
    [InlineData("ftp://example.com/", false)]
    [InlineData("file:///etc/passwd", false)]
    [InlineData("/relative/path", false)]
    [InlineData("https://user:secret@example.com/", false)]
    [InlineData("https://example.com/#fragment", false)]
    [InlineData("https://exämple.com/", false)]
    [InlineData("https://example.com/\u0000", false)]
    public void Only_absolute_http_and_https_urls_in_ascii_without_credentials(string url, bool acceptable) =>
        Assert.Equal(acceptable, WebhookTargets.SyntaxProblem(url) is null);

    [Fact]
    public void The_signature_is_an_hmac_of_the_timestamp_a_dot_and_the_body()
    {
        var body = Encoding.UTF8.GetBytes("""{"sequence":7,"type":"journal_entry.posted"}""");
        var header = WebhookSecrets.Signature("whsec-test-secret-0123", 1_767_225_600, body);
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(
            Encoding.UTF8.GetBytes("whsec-test-secret-0123"), Encoding.UTF8.GetBytes("1767225600." + Encoding.UTF8.GetString(body))));
        Assert.Equal($"t=1767225600,v1={expected}", header);
    }

    [Fact]
    public void Generated_secrets_are_32_random_bytes_in_base64url()
    {
        var secrets = Enumerable.Range(0, 100).Select(_ => WebhookSecrets.NewSecret()).ToList();
        Assert.All(secrets, s => Assert.Matches("^[A-Za-z0-9_-]{43}$", s));
        Assert.Equal(secrets.Count, secrets.Distinct().Count());
    }
}
