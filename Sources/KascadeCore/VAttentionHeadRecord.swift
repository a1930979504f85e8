/// What vAttention did for one query head in one decode step (scalars only, so it lives in scratch).
struct VAttentionHeadRecord {
    /// Keys in the deterministic set (sinks, window, predicted top-k).
    var deterministic = 0
    /// Keys left to sample from, `n_s`.
    var residual = 0
    /// Pilot sample size (a prefix of the final sample).
    var pilot = 0
    /// Final sample size `b`.
    var sampled = 0
    /// Pilot estimate of the standard deviation of one sampled denominator term `e^s`.
    var sigmaDenominator = 0.0
    /// Pilot estimate of the standard deviation (trace of the covariance, square-rooted) of one numerator term `e^s v`.
    var sigmaNumerator = 0.0
    /// Tolerance on the denominator, `epsilon * D`.
    var tauDenominator = 0.0
    /// Tolerance on the numerator, `epsilon * |N|`.
    var tauNumerator = 0.0
}
