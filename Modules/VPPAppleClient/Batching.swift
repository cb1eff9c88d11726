/// Splits `items` into consecutive chunks of at most `size` (at least one element each).
func chunked<T>(_ items: [T], by size: Int) -> [[T]] {
    let size = max(1, size)
    return stride(from: 0, to: items.count, by: size).map { Array(items[$0..<min($0 + size, items.count)]) }
}
