import VPPDomain

/// The vppctl command that carries out a token's next step: the domain's sentence names no face's syntax
/// (REST clients, the console and e-mails read it too), so the CLI adds its own command here.
enum NextStepCommand {
    /// The command for a token in `status` (its API code, e.g. `expired`), or nil when nothing is to be done.
    static func command(status: String, location: String, file: String? = nil) -> String? {
        switch status {
        case "expiring_soon", "expired", "revoked", "invalid":
            "vppctl token renew \"\(location)\" <new .vpptoken file>"
        case "in_use_elsewhere":
            "vppctl token upload \(file ?? "<.vpptoken file>") --take-over --dry-run (then without --dry-run)"
        default:
            nil
        }
    }
}
