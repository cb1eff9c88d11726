import Testing
import VPPDomain

/// The outbound rule (issue 24, item 2) without I/O: which URLs and addresses vpp may call.
@Suite("Outbound policy: internal ranges, schemes and the operator's allow-list")
struct OutboundPolicyTests {
    @Test("internal IPv4 and IPv6 ranges are recognised, including IPv4 inside IPv6; public addresses are not")
    func ranges() {
        for inside in [
            "127.0.0.1", "127.255.0.9", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.0.1", "169.254.169.254",
            "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fd00:ec2::254",
            "fc00::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "64:ff9b::10.0.0.1", "ff02::1",
        ] {
            #expect(IPAddress(inside)?.internalRange != nil, "\(inside)")
        }
        for public_ in ["8.8.8.8", "17.253.144.10", "172.32.0.1", "192.169.0.1", "2001:4860:4860::8888"] {
            let address = IPAddress(public_)
            #expect(address != nil && address?.internalRange == nil, "\(public_)")
        }
        for notAnAddress in ["mdm.example.com", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1::2::3", "12345::1"] {
            #expect(IPAddress(notAnAddress) == nil, "\(notAnAddress)")
        }
    }

    @Test("https to a public host passes; http, internal addresses and localhost need the operator's allow-list")
    func urls() {
        let strict = OutboundPolicy.strict
        #expect(strict.refusal(forURL: "https://mdm.example.com/api") == nil)
        #expect(strict.refusal(forURL: "https://17.253.144.10") == nil)
        #expect(strict.refusal(forURL: "http://mdm.example.com")?.contains("plain http") == true)
        #expect(strict.refusal(forURL: "https://10.0.0.5:8443")?.contains("private") == true)
        #expect(strict.refusal(forURL: "https://[::1]:8443")?.contains("loopback") == true)
        #expect(strict.refusal(forURL: "https://LOCALHOST")?.contains("this machine") == true)
        #expect(strict.refusal(forURL: "ftp://mdm.example.com")?.contains("scheme") == true)
        #expect(strict.refusal(forURL: "not a url") != nil)

        let allowed = OutboundPolicy(allowList: " 10.0.0.5 , mdm.corp:8080, [::1]:9000,,")
        #expect(allowed.allowed.count == 3)
        #expect(allowed.refusal(forURL: "http://10.0.0.5:1234") == nil, "a host allows any port, http too")
        #expect(allowed.refusal(forURL: "http://MDM.corp:8080/x") == nil)
        #expect(allowed.refusal(forURL: "http://mdm.corp:8081/x") != nil, "host:port allows that port only")
        #expect(allowed.refusal(forURL: "https://[::1]:9000") == nil)
        #expect(allowed.refusal(forURL: "https://[::1]:9001") != nil)
    }

    @Test("at connect time every resolved address is checked, unless the host is allowed")
    func addresses() throws {
        let strict = OutboundPolicy.strict
        let inside = try #require(IPAddress("127.0.0.1"))
        #expect(strict.refusal(forAddress: inside, host: "rebind.example", port: 443)?.contains("resolves to") == true)
        #expect(strict.refusal(forAddress: try #require(IPAddress("8.8.8.8")), host: "dns.example", port: 443) == nil)
        #expect(
            OutboundPolicy(allowList: "rebind.example").refusal(forAddress: inside, host: "rebind.example", port: 443)
                == nil
        )
    }

    @Test("SMTP: STARTTLS stands for https; plain SMTP to an internal host needs the allow-list")
    func smtp() {
        #expect(OutboundPolicy.strict.refusal(smtpHost: "smtp.example.com", port: 587, encrypted: true) == nil)
        #expect(OutboundPolicy.strict.refusal(smtpHost: "smtp.example.com", port: 25, encrypted: false) != nil)
        #expect(OutboundPolicy.strict.refusal(smtpHost: "127.0.0.1", port: 1025, encrypted: true) != nil)
        #expect(
            OutboundPolicy(allowList: "127.0.0.1").refusal(smtpHost: "127.0.0.1", port: 1025, encrypted: false) == nil
        )
    }
}
