package dev.gpubroker.architecture;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.simpleNameEndingWith;
import static com.tngtech.archunit.core.domain.properties.HasName.Predicates.name;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;


import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;

/** The package rules of docs/architecture.md, enforced. */
@AnalyzeClasses(packages = "dev.gpubroker", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

    /**
     * Top-level packages (a package with its subpackages) never depend on each other in a circle, so that the layers of
     * docs/architecture.md stay layers. {@code GpuBrokerApplication}, the wiring that sees everything, sits in
     * {@code dev.gpubroker} itself and so in no slice.
     */
    @ArchTest
    static final ArchRule partsAreFreeOfCycles = slices().matching("dev.gpubroker.(*)..").should().beFreeOfCycles();

    /** The same within a part: a subpackage and its parent (payments and payments.relayer) do not need each other. */
    @ArchTest
    static final ArchRule packagesAreFreeOfCycles = slices().matching("dev.gpubroker.(**)").should().beFreeOfCycles();

    /** The package that owns a table owns its repository: everyone else asks that package's services. */
    @ArchTest
    static final ArchRule repositoriesAreUsedOnlyByTheirOwners = classes()
            .that().haveSimpleNameEndingWith("Repository")
            .should(beUsedOnlyFromTheirOwnPackage());

    /** Shared database helpers sit below every part, so that any owner of a table may use them. */
    @ArchTest
    static final ArchRule thePlatformKnowsNoBusinessPackage = noClasses()
            .that().resideInAPackage("dev.gpubroker.platform..")
            .should().dependOnClassesThat(resideInAPackage("dev.gpubroker..")
                    .and(DescribedPredicate.not(resideInAnyPackage("dev.gpubroker.platform..", "dev.gpubroker.config..")))
                    .as("classes of a business package"));

    @ArchTest
    static final ArchRule theEdgesCallApplicationServicesNeverRepositories = noClasses()
            .that().resideInAnyPackage("dev.gpubroker.mcp..", "dev.gpubroker.admin..")
            .should().dependOnClassesThat(simpleNameEndingWith("Repository")
                    .or(resideInAnyPackage("dev.gpubroker.platform..", "org.web3j..", "org.springframework.r2dbc..",
                            "io.r2dbc.."))
                    .as("repositories, the database platform, web3j or R2DBC"));

    @ArchTest
    static final ArchRule nothingDependsOnTheMcpEdge = noClasses()
            .that().resideOutsideOfPackages("dev.gpubroker.mcp..")
            .and().doNotHaveFullyQualifiedName("dev.gpubroker.GpuBrokerApplication")
            .should().dependOnClassesThat().resideInAPackage("dev.gpubroker.mcp..");

    @ArchTest
    static final ArchRule nothingDependsOnTheAdminEdge = noClasses()
            .that().resideOutsideOfPackages("dev.gpubroker.admin..")
            .should().dependOnClassesThat().resideInAPackage("dev.gpubroker.admin..");

    @ArchTest
    static final ArchRule providerPackagesDoNotKnowEachOther = slices()
            .matching("dev.gpubroker.market.(*)..")
            .should().notDependOnEachOther()
            // market.process is not a provider: it runs local processes for any provider that executes on this host.
            .ignoreDependency(DescribedPredicate.alwaysTrue(), resideInAPackage("dev.gpubroker.market.process.."))
            // market.remote is not a provider either: the shared parts every real provider's package uses (keys, HTTP, markup).
            .ignoreDependency(DescribedPredicate.alwaysTrue(), resideInAPackage("dev.gpubroker.market.remote.."));

    @ArchTest
    static final ArchRule businessPackagesDoNotDependOnProviderImplementations = noClasses()
            .that().resideInAnyPackage("dev.gpubroker.scheduler..", "dev.gpubroker.payments..", "dev.gpubroker.identity..")
            .should().dependOnClassesThat().resideInAPackage("dev.gpubroker.market.*..");

    /** Every business package records into metrics, so metrics may know none of them (or the packages would cycle). */
    @ArchTest
    static final ArchRule metricsKnowNoBusinessPackage = noClasses()
            .that().resideInAPackage("dev.gpubroker.metrics..")
            .should().dependOnClassesThat().resideInAnyPackage("dev.gpubroker.market..", "dev.gpubroker.jobs..",
                    "dev.gpubroker.payments..", "dev.gpubroker.scheduler..", "dev.gpubroker.policy..",
                    "dev.gpubroker.identity..", "dev.gpubroker.ledger..", "dev.gpubroker.audit..",
                    "dev.gpubroker.lifecycle..", "dev.gpubroker.wallet..", "dev.gpubroker.mcp..", "dev.gpubroker.admin..");

    @ArchTest
    static final ArchRule moneyIsALeafPackage = classes()
            .that().resideInAPackage("dev.gpubroker.money..")
            .should().onlyDependOnClassesThat().resideInAnyPackage("java..", "dev.gpubroker.money..");

    private static ArchCondition<JavaClass> beUsedOnlyFromTheirOwnPackage() {
        return new ArchCondition<>("be used only from their own package") {
            @Override
            public void check(JavaClass repository, ConditionEvents events) {
                for (Dependency dependency : repository.getDirectDependenciesToSelf()) {
                    String user = dependency.getOriginClass().getPackageName();
                    if (!user.equals(repository.getPackageName())) {
                        events.add(SimpleConditionEvent.violated(dependency, dependency.getDescription()));
                    }
                }
            }
        };
    }
}
