/// Durations as plain numbers, for results and arithmetic; one definition for every module.
extension Duration {
    /// Seconds as a Double.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// Milliseconds as a Double.
    public var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}

extension ContinuousClock.Instant {
    /// Seconds from now until this instant, never negative: what is left of a deadline.
    public var secondsLeft: Double { max(0, ContinuousClock.now.duration(to: self).seconds) }
}
