#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Number of cores work is split over (`KASCADE_THREADS` overrides; at least 1).
public enum ProcessInfoCores {
    /// Cores to use, read once.
    public static let count: Int = {
        if let s = getenv("KASCADE_THREADS"), let n = Int(String(cString: s)), n > 0 { return n }
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }()
}

extension Float {
    /// `e^self` through the C library (vectorisable single-precision exp).
    @inlinable public var exp: Float {
        #if canImport(Glibc)
        return Glibc.expf(self)
        #else
        return Darwin.expf(self)
        #endif
    }
}
