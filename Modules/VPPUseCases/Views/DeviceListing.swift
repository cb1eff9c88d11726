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
    /// The cursors of the other orders (``SortedCursor``).
    static let sortedPrefix = "d2."

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
    /// A page of devices in `sort`'s order (keyset paging on the column's value, then the serial).
    /// - Parameter after: the `next` cursor of the previous page, in the same order (else a bad page request).
    public func devicePage(
        _ caller: Caller,
        filter: DeviceFilter,
        sort: ListingSort<DeviceSortColumn> = ListingSort(),
        after: String?,
        limit: Int
    ) async throws -> ListingPage<DeviceView> {
        try caller.require(.read)
        let standard = sort == ListingSort()
        let start = try Self.pageStart(limit: limit, after: after) { cursor in
            // The standard order's cursors are the ones /v1 has always given (`d1.`).
            standard
                ? DeviceCursor.decode(cursor).map { ListingPosition(.text($0.value), key: $0) }
                : SortedCursor.decode(cursor, prefix: DeviceCursor.sortedPrefix, sort) { try? SerialNumber($0) }
        }
        let rows = try await store.inTenant(caller.tenantID) { tx in
            try await tx.devicePage(after: start, limit: limit + 1, filter: filter, sort: sort)
        }
        let page = Array(rows.prefix(limit))
        let next = rows.count > limit ? page.last : nil
        return ListingPage(
            items: page.map(DeviceView.init),
            next: next.map { device in
                standard
                    ? DeviceCursor.encode(device.serialNumber)
                    : SortedCursor.encode(
                        prefix: DeviceCursor.sortedPrefix,
                        sort,
                        Self.position(of: device, sort.column),
                        key: device.serialNumber.value
                    )
            }
        )
    }

    /// How many devices `filter` selects (the console's "Rows 1–50 of N"): one count, not a listing.
    public func deviceCount(_ caller: Caller, filter: DeviceFilter) async throws -> Int {
        try caller.require(.read)
        return try await store.inTenant(caller.tenantID) { tx in try await tx.deviceCount(filter: filter) }
    }

    /// A device's place in an order: the value the store sorts it by, then its serial.
    static func position(of device: Device, _ column: DeviceSortColumn) -> ListingPosition<SerialNumber> {
        let value: String =
            switch column {
            case .serial: device.serialNumber.value
            case .name: device.name ?? ""
            case .enrollment: device.enrollment.state.rawValue
            }
        return ListingPosition(.text(value), key: device.serialNumber)
    }
}
