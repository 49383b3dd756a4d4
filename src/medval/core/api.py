"""The HTTP routes, named once for the server's routers and the client's calls.

Every route lives under ``PREFIX``. Errors come back as ``ErrorResponse`` with the
status of the error's code (see ``medval.core.errors``). Authentication is a bearer
token from ``TOKEN``; every route but ``HEALTH``, ``TOKEN`` (POST) and a public
benchmark's ``LEADERBOARD``, ``BENCHMARK_SHIFT`` and ``BENCHMARKS`` listings needs one.

Every GET below that answers a ``list`` pages (``medval.core.paging``): ``?limit=&after=``,
and a ``Link: <...>; rel="next"`` header while more follow; all but ``PENDING_EXECUTIONS``.
"""

from __future__ import annotations

PREFIX = "/api/v1"

# How long the server keeps an idle connection open (uvicorn's ``timeout_keep_alive``),
# and how long a client reuses one: well under it. A client that sent a request on a
# connection the server was closing at that moment would lose it ("server disconnected
# without sending a response"); with both at 5 s, a client idle about 5 s did.
SERVER_KEEP_ALIVE_SECONDS = 5
CLIENT_REUSE_SECONDS = 2.0

HEALTH = "/health"  # GET -> {"status": "ok", "version": str}

TOKEN = "/auth/token"  # POST Credentials -> TokenPublic; DELETE revokes the caller's token
ME = "/users/me"  # GET -> UserPublic
USERS = "/users"  # GET (admin) -> list[UserPublic]; POST (admin) UserCreate -> UserPublic
# PUT PasswordChange -> 204 (oneself with the old password; an admin for another)
USER_PASSWORD = "/users/{user_id}/password"
USER_STATUS = "/users/{user_id}/status"  # PUT AccountStatus -> UserPublic (admin, not oneself)
# PUT InstitutionChange -> UserPublic (admin): the institution the account is in
USER_INSTITUTION = "/users/{user_id}/institution"
USER_TOKENS = "/users/{user_id}/tokens"  # DELETE -> TokensRevoked (oneself, or an admin)
# GET -> list[SigningKeyPublic] (the caller's, retired ones too); POST SigningKeyCreate ->
# SigningKeyPublic (becomes the caller's current key, the one before it is retired)
MY_SIGNING_KEYS = "/users/me/signing-keys"
SIGNING_KEY = "/signing-keys/{key_id}"  # GET -> SigningKeyPublic (any account)
# GET -> list[EncryptionKeyPublic] (the caller's, retired ones too); POST
# EncryptionKeyCreate -> EncryptionKeyPublic (the caller's current key for model keys)
MY_ENCRYPTION_KEYS = "/users/me/encryption-keys"

# PUT raw bytes (hash checked; UPLOAD_OFFSET: N continues an upload cut short) -> 201;
# GET -> the bytes (a Range header continues a download cut short)
BLOB = "/blobs/{sha256}"
BLOB_UPLOAD = "/blobs/{sha256}/upload"  # GET -> BlobUploadState (what the server holds)
UPLOAD_OFFSET = "Upload-Offset"  # the request header of a PUT that continues an upload

CUBES = "/cubes"  # POST CubeCreate -> CubePublic; GET ?kind=&mine= -> list[CubePublic]
CUBE = "/cubes/{cube_id}"  # GET -> CubePublic
CUBE_STAGE = "/cubes/{cube_id}/stage"  # PUT StageChange -> CubePublic (owner)
CUBE_INVALIDATION = "/cubes/{cube_id}/invalidation"  # POST -> CubePublic (owner, admin)
# A private model's key (model_key_schemas): GET -> list[ModelKeyRecipient] (its owner)
MODEL_KEY_RECIPIENTS = "/cubes/{cube_id}/key-recipients"
# PUT WrappedModelKeyCreate -> WrappedModelKeyPublic (the model's owner grants the site);
# DELETE -> ModelKeyRecipient (the owner withholds it: its wrapped key is deleted)
MODEL_KEY_GRANT = "/cubes/{cube_id}/key-recipients/{username}"
# GET -> WrappedModelKeyPublic: the caller's own wrapped key, released while approved
# POST KeyReleaseEvidence -> WrappedModelKeyPublic: the same, against attestation evidence
RELEASED_MODEL_KEY = "/cubes/{cube_id}/released-key"
# An attested model (attestation_schemas): GET -> AttestationPinsPublic (who sees the model);
# PUT AttestationPinsCreate -> AttestationPinsPublic (its owner pins what may hold the key)
ATTESTATION_PINS = "/cubes/{cube_id}/attestation-pins"
# POST -> AttestationNoncePublic: a nonce for the calling site's evidence (approved sites)
ATTESTATION_NONCES = "/cubes/{cube_id}/attestation-nonces"

BENCHMARKS = "/benchmarks"  # POST BenchmarkCreate -> BenchmarkPublic; GET -> list
BENCHMARK = "/benchmarks/{benchmark_id}"  # GET -> BenchmarkPublic
BENCHMARK_STAGE = "/benchmarks/{benchmark_id}/stage"  # PUT StageChange (owner)
BENCHMARK_APPROVAL = "/benchmarks/{benchmark_id}/approval"  # PUT Decision (admin)
BENCHMARK_INVALIDATION = "/benchmarks/{benchmark_id}/invalidation"  # POST (owner, admin)
# GET -> LeaderboardPublic; ?sites=true: each model's sites too (as released to the caller);
# ?phase=NAME: that phase's (default: the one open now, else the last; a closed one's is
# its archived board, with its hash)
LEADERBOARD = "/benchmarks/{benchmark_id}/leaderboard"
# Phases (issue 19): GET -> list[PhaseShown]; POST PhaseCreate -> PhasePublic (committee)
BENCHMARK_PHASES = "/benchmarks/{benchmark_id}/phases"
# GET -> PhaseShown (with its state now); PATCH PhaseDates -> PhasePublic (committee)
BENCHMARK_PHASE = "/benchmarks/{benchmark_id}/phases/{name}"
# POST -> PhasePublic: closed now, its leaderboard archived (committee)
BENCHMARK_PHASE_CLOSURE = "/benchmarks/{benchmark_id}/phases/{name}/closure"
# GET -> BenchmarkShiftPublic: each site's population against the others' (as LEADERBOARD)
BENCHMARK_SHIFT = "/benchmarks/{benchmark_id}/shift"
# GET -> BenchmarkSubgroupsPublic: declared subgroups pooled per model (as LEADERBOARD)
BENCHMARK_SUBGROUPS = "/benchmarks/{benchmark_id}/subgroups"
# Membership (issue 10): PUT MembershipAgreement -> BenchmarkPublic (owner, admin)
BENCHMARK_AGREEMENT = "/benchmarks/{benchmark_id}/agreement"
# POST AgreementAcceptanceCreate -> AgreementAcceptancePublic (the caller accepts);
# GET -> list (the owner and admins: everyone's; others: their own)
AGREEMENT_ACCEPTANCES = "/benchmarks/{benchmark_id}/agreement/acceptances"
# GET -> list[DatasetTermsPublic]: the datasets' policies as the caller may see them
BENCHMARK_DATA_POLICIES = "/benchmarks/{benchmark_id}/data-policies"
# PUT AutoApprovalRule -> BenchmarkPublic (owner, admin)
BENCHMARK_AUTO_APPROVAL = "/benchmarks/{benchmark_id}/auto-approval"
# GET -> list[PreparationReportPublic] (the benchmark's owner, admins), oldest first
BENCHMARK_PREPARATION_REPORTS = "/benchmarks/{benchmark_id}/preparation-reports"
PREPARATION_REPORTS = "/preparation-reports"  # POST PreparationReportCreate (any account)
# Expected sites (issue 19), the owner (committee) and admins only: GET -> list
# [ExpectedSitePublic]; POST ExpectedSiteCreate -> ExpectedSitePublic; DELETE ?kind=&name=
# -> ExpectedSitePublic (that expectation only)
BENCHMARK_EXPECTED_SITES = "/benchmarks/{benchmark_id}/expected-sites"
# GET -> BenchmarkParticipation (owner, admin): each site's progress, no patient data
BENCHMARK_PARTICIPATION = "/benchmarks/{benchmark_id}/participation"
# GET -> BenchmarkResultsExport (owner, admin): the released results, one row per result
BENCHMARK_RESULTS_EXPORT = "/benchmarks/{benchmark_id}/exports/results"
# Quotas, the entry that counts, priorities (issue 19, core.quotas):
# PUT PhaseQuotas -> PhasePublic (the committee: the benchmark's owner, admins)
PHASE_QUOTAS = "/benchmarks/{benchmark_id}/phases/{name}/quotas"
# PUT ModelPriorities -> PhasePublic (the committee); the open phase's unless it names one
MODEL_PRIORITIES = "/benchmarks/{benchmark_id}/priorities"
# PUT CountingEntryChoice -> CountingEntryPublic (the model's owner)
COUNTING_ENTRY = "/benchmarks/{benchmark_id}/counting-entry"

DATASETS = "/datasets"  # POST DatasetCreate -> DatasetPublic; GET ?mine= -> list
DATASET = "/datasets/{dataset_id}"  # GET -> DatasetPublic
DATASET_STAGE = "/datasets/{dataset_id}/stage"  # PUT StageChange (owner)
DATASET_INVALIDATION = "/datasets/{dataset_id}/invalidation"  # POST (owner, admin)

ASSOCIATIONS = "/associations"  # POST AssociationCreate; GET ?benchmark_id=&status=&kind=
ASSOCIATION = "/associations/{association_id}"  # GET -> AssociationPublic (with history)
ASSOCIATION_DECISION = "/associations/{association_id}/decision"  # PUT Decision
ASSOCIATION_REVOCATION = "/associations/{association_id}/revocation"  # POST (either side)
ASSOCIATION_POLICY = "/associations/{association_id}/policy"  # PUT DataPolicy (dataset owner)

# GET -> list[PendingExecution] for the caller, paged by (benchmark, dataset, model) ids
PENDING_EXECUTIONS = "/executions/pending"

RESULTS = "/results"  # POST ResultCreate -> ResultPublic; GET ?benchmark_id=&model_id=&dataset_id=
RESULT = "/results/{result_id}"  # GET -> ResultPublic (if the release policy allows)
# A held result (issue 19), by its benchmark's committee: POST -> ResultPublic
RESULT_PUBLICATION = "/results/{result_id}/publication"
# POST PublicationDecision (a reason) -> ResultPublic
RESULT_WITHHOLDING = "/results/{result_id}/withholding"

# GET ?entity_kind=&entity_id=&entity_id=...&actor= -> list[AuditEntryPublic], in the log's
# order: all of them for an admin; for others, those about what they own or may see (their
# cubes, datasets, benchmarks, associations, results) and those they made
AUDIT = "/audit"

# --- federated training (issue 11) -----------------------------------------------------
AGGREGATORS = "/aggregators"  # POST AggregatorCreate -> AggregatorPublic; GET ?name= -> list
AGGREGATOR = "/aggregators/{aggregator_id}"  # GET -> AggregatorPublic

TRAININGS = "/trainings"  # POST TrainingExperimentCreate -> TrainingExperimentPublic; GET ?name=
TRAINING = "/trainings/{experiment_id}"  # GET -> TrainingExperimentPublic
TRAINING_APPROVAL = "/trainings/{experiment_id}/approval"  # PUT Decision (admin)
# PUT AutoApprovalRule -> TrainingExperimentPublic (training owner, admin)
TRAINING_AUTO_APPROVAL = "/trainings/{experiment_id}/auto-approval"
TRAINING_CA = "/trainings/{experiment_id}/ca"  # GET -> TrainingCAPublic (the CA's certificate)
# POST CertificateRequest -> AggregatorCertificatePublic (the aggregator's owner, once approved)
TRAINING_AGGREGATOR_CERTIFICATE = "/trainings/{experiment_id}/aggregator-certificate"
# GET -> list[TrainingNodePublic] (the aggregator's owner, the training owner, admins)
TRAINING_NODES = "/trainings/{experiment_id}/nodes"
# PUT FinalModel -> TrainingExperimentPublic (the training owner)
TRAINING_FINAL_MODEL = "/trainings/{experiment_id}/final-model"
# POST RoundMetricsCreate -> RoundMetricsPublic (the aggregator's owner); GET -> list
TRAINING_ROUNDS = "/trainings/{experiment_id}/rounds"
# POST SiteRoundMetricsCreate -> SiteRoundMetricsPublic (the dataset's owner); GET -> list of
# those the caller may see (their own datasets'; all of them for the training owner, admins)
TRAINING_SITE_ROUNDS = "/trainings/{experiment_id}/site-rounds"

# POST TrainingAssociationCreate -> TrainingAssociationPublic (the dataset's owner);
# GET ?experiment_id=&dataset_id=&status= -> list (those the caller is party to)
TRAINING_ASSOCIATIONS = "/training-associations"
TRAINING_ASSOCIATION = "/training-associations/{association_id}"  # GET
# PUT Decision (the training owner, admin)
TRAINING_ASSOCIATION_DECISION = "/training-associations/{association_id}/decision"
# POST (the training owner, the dataset's owner, admin)
TRAINING_ASSOCIATION_REVOCATION = "/training-associations/{association_id}/revocation"
# PUT DataPolicy (the dataset's owner)
TRAINING_ASSOCIATION_POLICY = "/training-associations/{association_id}/policy"
