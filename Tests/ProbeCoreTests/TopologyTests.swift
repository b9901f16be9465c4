import ProbeCore
import Testing

@Suite("Service topology")
struct TopologyTests {
    @Test("the dependency order has every service once, each after all it depends on")
    func dependencyOrderIsTopological() {
        let order = Service.dependencyOrder
        #expect(order.count == Service.allCases.count)
        #expect(Set(order) == Set(Service.allCases))
        for service in Service.allCases {
            for dependency in service.dependencies {
                #expect(dependency.dependencyRank < service.dependencyRank, "\(dependency) must come before \(service)")
            }
        }
    }

    @Test("the derived order is the one reports and incidents have always used")
    func dependencyOrderIsStable() {
        #expect(
            Service.dependencyOrder == [
                .mongo, .redis, .elasticsearch, .apiserver, .fileserver, .webserver, .nginx, .agents,
            ])
        #expect(Service.dependencyOrder.enumerated().allSatisfy { $0.element.dependencyRank == $0.offset })
    }
}
