import Foundation
import VPPDomain

/// Which devices to list.
public struct DeviceFilter: Hashable, Sendable {
    /// Only serials starting with this (case-insensitive, as serials are stored upper-cased).
    public var serialPrefix: String?
    /// true: only devices whose MDM enrollment completed; false: only the others; nil: all.
    public var enrolled: Bool?
    /// Whether retired devices are listed (not by default).
    public var includeRetired: Bool
    /// Only devices whose serial or name contains this (case-insensitive; `%` and `_` are plain text).
    public var search: String?

    public init(
        serialPrefix: String? = nil,
        enrolled: Bool? = nil,
        includeRetired: Bool = false,
        search: String? = nil
    ) {
        self.serialPrefix = serialPrefix
        self.enrolled = enrolled
        self.includeRetired = includeRetired
        self.search = search
    }
}

/// The opaque keyset cursor of a device listing (the last serial, versioned so its shape may change).
public enum DeviceCursor {
    static let prefix = "d1."

    public static func encode(_ serial: SerialNumber) -> String {
        prefix + Data(serial.value.utf8).base64EncodedString()
    }

    /// Reads a cursor; anything that is not one of ours is `nil`.
    public static func decode(_ cursor: String) -> SerialNumber? {
        guard cursor.hasPrefix(prefix), cursor.count < 80,
            let data = Data(base64Encoded: String(cursor.dropFirst(prefix.count)))
        else { return nil }
        return try? SerialNumber(String(decoding: data, as: UTF8.self))
    }
}

extension Catalogue {
    /// A page of devices ordered by serial number (keyset paging: a deep page costs what the first does).
    /// - Parameter after: the `next` cursor of the previous page.
    public func devicePage(
        _ caller: Caller,
        filter: DeviceFilter,
        after: String?,
        limit: Int
    ) async throws -> ListingPage<DeviceView> {
        try caller.require(.read)
        let start = try Self.pageStart(limit: limit, after: after, decode: DeviceCursor.decode)
        let rows = try await store.inTenant(caller.tenantID) { tx in
            try await tx.devicePage(after: start, limit: limit + 1, filter: filter)
        }
        let page = Array(rows.prefix(limit))
        return ListingPage(
            items: page.map(DeviceView.init),
            next: rows.count > limit ? page.last.map { DeviceCursor.encode($0.serialNumber) } : nil
        )
    }
}
