"""The typed HTTP client: one request method, and one short method per API call. Server
errors come back as the typed exceptions the server raised (by code); an unreachable server
is a ``ServerUnavailable`` naming the URL; ``_call`` follows every page of a list.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from functools import partial
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from medval.client import transfers
from medval.client.blob_http import BlobTransfers
from medval.client.membership_http import MembershipCalls
from medval.client.model_keys_http import ModelKeyCalls
from medval.client.pages import following, joined
from medval.client.participation_http import ParticipationCalls
from medval.client.phases_http import PhaseCalls
from medval.client.preparation_reports_http import PreparationReportCalls
from medval.client.training_http import TrainingCalls
from medval.core import api
from medval.core.errors import MedvalError, ServerUnavailable, error_from_code
from medval.core.membership_schemas import (
    DataPolicy,
)
from medval.core.result_schemas import (
    LeaderboardPublic,
    PendingExecution,
    ResultCreate,
    ResultPublic,
)
from medval.core.schemas import (
    AccountStatus,
    AssociationCreate,
    AssociationPublic,
    AuditEntryPublic,
    BenchmarkCreate,
    BenchmarkPublic,
    Credentials,
    CubeCreate,
    CubePublic,
    DatasetCreate,
    DatasetPublic,
    Decision,
    ErrorResponse,
    PasswordChange,
    SigningKeyCreate,
    SigningKeyPublic,
    StageChange,
    TokenPublic,
    TokensRevoked,
    UserCreate,
    UserPublic,
)
from medval.core.shift_schemas import BenchmarkShiftPublic
from medval.core.states import ApprovalStatus, Stage
from medval.core.subgroup_schemas import BenchmarkSubgroupsPublic

T = TypeVar("T")

# A connection idle longer than this is not reused (``api.CLIENT_REUSE_SECONDS``). Give
# these to any transport handed to ``MedvalClient``: httpx applies the client's only to
# the transport it makes itself.
CONNECTION_LIMITS = httpx.Limits(keepalive_expiry=api.CLIENT_REUSE_SECONDS)


class MedvalClient(BlobTransfers):
    """Talks to one medval server, as one account (or anonymously without a token)."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        transfer_report: transfers.TransferReport | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.transfer_report = transfer_report  # hears how far each blob transfer is
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(
            base_url=self.base_url + api.PREFIX,
            headers=headers,
            timeout=timeout,
            transport=transport,
            limits=CONNECTION_LIMITS,
            verify=verify,  # settings.tls_verify: a pinned CA, or the system's
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> MedvalClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the one place that speaks HTTP -------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        *,
        body: BaseModel | None = None,
        content: bytes | None = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self._http.request(
                method,
                path,
                content=content if body is None else body.model_dump_json().encode(),
                headers={"Content-Type": "application/json"} if body is not None else None,
                params=query or None,  # {} would drop the query of a next page's URL
            )
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from exc
        if response.is_success:
            return response
        raise self._error(response)

    def _unreachable(self, exc: httpx.HTTPError) -> ServerUnavailable:
        if "CERTIFICATE_VERIFY_FAILED" in str(exc):
            return ServerUnavailable(
                f"the certificate of the medval server at {self.base_url} is not trusted; "
                "set MEDVAL_CA_BUNDLE to the CA that signed it"
            )
        return ServerUnavailable(
            f"cannot reach the medval server at {self.base_url} ({exc.__class__.__name__})"
        )

    def _error(self, response: httpx.Response) -> MedvalError:
        try:
            body = ErrorResponse.model_validate_json(response.content)
        except ValidationError:
            return ServerUnavailable(
                f"the server at {self.base_url} answered HTTP {response.status_code} "
                "without a medval error body; is this a medval server?"
            )
        return error_from_code(body.error.code, body.error.message)

    def call(self, kind: type[T], method: str, path: str, **kwargs: Any) -> T:
        """One API call whose answer is a ``kind``: for the calls grouped elsewhere."""
        return self._call(kind, method, path, **kwargs)

    @property
    def training(self) -> TrainingCalls:
        """The calls of federated training (``training_http``)."""
        return TrainingCalls(self)

    @property
    def membership(self) -> MembershipCalls:
        """A benchmark's membership rules: agreement, auto-approval, data policies
        (``membership_http``)."""
        return MembershipCalls(self)

    @property
    def phases(self) -> PhaseCalls:
        """A benchmark's phases, and the publication of held results (``phases_http``)."""
        return PhaseCalls(self)

    @property
    def model_keys(self) -> ModelKeyCalls:
        """Private models' keys: encryption keys, recipients, grants, releases
        (``model_keys_http``)."""
        return ModelKeyCalls(self)

    @property
    def preparation_reports(self) -> PreparationReportCalls:
        """Sites' preparation reports: sending one, a benchmark's list
        (``preparation_reports_http``)."""
        return PreparationReportCalls(self)

    @property
    def participation(self) -> ParticipationCalls:
        """A benchmark's committee: expected sites, participation, exports; institutions
        (``participation_http``)."""
        return ParticipationCalls(self)

    def _call(self, kind: type[T], method: str, path: str, **kwargs: Any) -> T:
        first = self._send(method, path, **kwargs)
        pages = following(first, partial(self._send, "GET"), self._http.base_url, self.base_url)
        try:
            return joined(
                [TypeAdapter(kind).validate_json(p.content) for p in pages], self.base_url
            )
        except ValidationError as exc:
            raise ServerUnavailable(
                f"the server at {self.base_url} sent an answer this client does not understand "
                f"({exc.error_count()} problems); are client and server the same version?"
            ) from exc

    # --- accounts -----------------------------------------------------------------------

    def health(self) -> dict[str, str]:
        return self._call(dict[str, str], "GET", api.HEALTH)

    def login(self, username: str, password: str) -> TokenPublic:
        body = Credentials(username=username, password=password)
        return self._call(TokenPublic, "POST", api.TOKEN, body=body)

    def logout(self) -> None:
        self._send("DELETE", api.TOKEN)

    def me(self) -> UserPublic:
        return self._call(UserPublic, "GET", api.ME)

    def users(self) -> list[UserPublic]:
        return self._call(list[UserPublic], "GET", api.USERS)

    def create_user(self, user: UserCreate) -> UserPublic:
        return self._call(UserPublic, "POST", api.USERS, body=user)

    def change_password(self, user_id: int, change: PasswordChange) -> None:
        self._send("PUT", api.USER_PASSWORD.format(user_id=user_id), body=change)

    def set_account_status(self, user_id: int, status: AccountStatus) -> UserPublic:
        path = api.USER_STATUS.format(user_id=user_id)
        return self._call(UserPublic, "PUT", path, body=status)

    def revoke_tokens(self, user_id: int) -> TokensRevoked:
        return self._call(TokensRevoked, "DELETE", api.USER_TOKENS.format(user_id=user_id))

    # --- signing keys -------------------------------------------------------------------

    def my_signing_keys(self) -> list[SigningKeyPublic]:
        return self._call(list[SigningKeyPublic], "GET", api.MY_SIGNING_KEYS)

    def register_signing_key(self, public_key: str) -> SigningKeyPublic:
        body = SigningKeyCreate(public_key=public_key)
        return self._call(SigningKeyPublic, "POST", api.MY_SIGNING_KEYS, body=body)

    def signing_key(self, key_id: str) -> SigningKeyPublic:
        return self._call(SigningKeyPublic, "GET", api.SIGNING_KEY.format(key_id=key_id))

    # --- cubes (blobs: ``BlobTransfers``) -------------------------------------------------

    def register_cube(self, cube: CubeCreate) -> CubePublic:
        return self._call(CubePublic, "POST", api.CUBES, body=cube)

    def cubes(self, kind: str | None = None, mine: bool | None = None) -> list[CubePublic]:
        params = {"kind": kind, "mine": mine}
        return self._call(list[CubePublic], "GET", api.CUBES, params=params)

    def cube(self, cube_id: int) -> CubePublic:
        return self._call(CubePublic, "GET", api.CUBE.format(cube_id=cube_id))

    def set_cube_stage(self, cube_id: int, stage: Stage) -> CubePublic:
        path = api.CUBE_STAGE.format(cube_id=cube_id)
        return self._call(CubePublic, "PUT", path, body=StageChange(stage=stage))

    def invalidate_cube(self, cube_id: int) -> CubePublic:
        return self._call(CubePublic, "POST", api.CUBE_INVALIDATION.format(cube_id=cube_id))

    # --- benchmarks ---------------------------------------------------------------------

    def register_benchmark(self, benchmark: BenchmarkCreate) -> BenchmarkPublic:
        return self._call(BenchmarkPublic, "POST", api.BENCHMARKS, body=benchmark)

    def benchmarks(self) -> list[BenchmarkPublic]:
        return self._call(list[BenchmarkPublic], "GET", api.BENCHMARKS)

    def benchmark(self, benchmark_id: int) -> BenchmarkPublic:
        path = api.BENCHMARK.format(benchmark_id=benchmark_id)
        return self._call(BenchmarkPublic, "GET", path)

    def set_benchmark_stage(self, benchmark_id: int, stage: Stage) -> BenchmarkPublic:
        path = api.BENCHMARK_STAGE.format(benchmark_id=benchmark_id)
        return self._call(BenchmarkPublic, "PUT", path, body=StageChange(stage=stage))

    def decide_benchmark(self, benchmark_id: int, status: ApprovalStatus) -> BenchmarkPublic:
        path = api.BENCHMARK_APPROVAL.format(benchmark_id=benchmark_id)
        return self._call(BenchmarkPublic, "PUT", path, body=Decision(status=status))

    def invalidate_benchmark(self, benchmark_id: int) -> BenchmarkPublic:
        path = api.BENCHMARK_INVALIDATION.format(benchmark_id=benchmark_id)
        return self._call(BenchmarkPublic, "POST", path)

    def leaderboard(
        self, benchmark_id: int, sites: bool = False, phase: str | None = None
    ) -> LeaderboardPublic:
        """``sites``: each model's sites too, those released to this account; ``phase``:
        that phase's board (None: the one open now, else the last)."""
        path = api.LEADERBOARD.format(benchmark_id=benchmark_id)
        params = {"sites": "true"} if sites else {}
        if phase is not None:
            params["phase"] = phase
        return self._call(LeaderboardPublic, "GET", path, params=params or None)

    def shift(self, benchmark_id: int) -> BenchmarkShiftPublic:
        path = api.BENCHMARK_SHIFT.format(benchmark_id=benchmark_id)
        return self._call(BenchmarkShiftPublic, "GET", path)

    def subgroups(self, benchmark_id: int, phase: str | None = None) -> BenchmarkSubgroupsPublic:
        """``phase``: that phase's results (None: the one open now, else the last)."""
        path = api.BENCHMARK_SUBGROUPS.format(benchmark_id=benchmark_id)
        params = {"phase": phase} if phase is not None else None
        return self._call(BenchmarkSubgroupsPublic, "GET", path, params=params)

    # --- datasets -----------------------------------------------------------------------

    def register_dataset(self, dataset: DatasetCreate) -> DatasetPublic:
        return self._call(DatasetPublic, "POST", api.DATASETS, body=dataset)

    def datasets(self, mine: bool | None = None) -> list[DatasetPublic]:
        return self._call(list[DatasetPublic], "GET", api.DATASETS, params={"mine": mine})

    def dataset(self, dataset_id: int) -> DatasetPublic:
        return self._call(DatasetPublic, "GET", api.DATASET.format(dataset_id=dataset_id))

    def set_dataset_stage(self, dataset_id: int, stage: Stage) -> DatasetPublic:
        path = api.DATASET_STAGE.format(dataset_id=dataset_id)
        return self._call(DatasetPublic, "PUT", path, body=StageChange(stage=stage))

    def invalidate_dataset(self, dataset_id: int) -> DatasetPublic:
        path = api.DATASET_INVALIDATION.format(dataset_id=dataset_id)
        return self._call(DatasetPublic, "POST", path)

    # --- associations -------------------------------------------------------------------

    def request_association(self, association: AssociationCreate) -> AssociationPublic:
        return self._call(AssociationPublic, "POST", api.ASSOCIATIONS, body=association)

    def associations(
        self,
        benchmark_id: int | None = None,
        status: ApprovalStatus | None = None,
        kind: str | None = None,
    ) -> list[AssociationPublic]:
        params = {"benchmark_id": benchmark_id, "status": status, "kind": kind}
        return self._call(list[AssociationPublic], "GET", api.ASSOCIATIONS, params=params)

    def decide_association(self, association_id: int, status: ApprovalStatus) -> AssociationPublic:
        path = api.ASSOCIATION_DECISION.format(association_id=association_id)
        return self._call(AssociationPublic, "PUT", path, body=Decision(status=status))

    def association(self, association_id: int) -> AssociationPublic:
        path = api.ASSOCIATION.format(association_id=association_id)
        return self._call(AssociationPublic, "GET", path)

    def revoke_association(self, association_id: int) -> AssociationPublic:
        path = api.ASSOCIATION_REVOCATION.format(association_id=association_id)
        return self._call(AssociationPublic, "POST", path)

    def set_association_policy(self, association_id: int, policy: DataPolicy) -> AssociationPublic:
        path = api.ASSOCIATION_POLICY.format(association_id=association_id)
        return self._call(AssociationPublic, "PUT", path, body=policy)

    # --- executions and results ---------------------------------------------------------

    def pending_executions(self) -> list[PendingExecution]:
        return self._call(list[PendingExecution], "GET", api.PENDING_EXECUTIONS)

    def upload_result(self, result: ResultCreate) -> ResultPublic:
        return self._call(ResultPublic, "POST", api.RESULTS, body=result)

    def results(
        self,
        benchmark_id: int | None = None,
        model_id: int | None = None,
        dataset_id: int | None = None,
    ) -> list[ResultPublic]:
        params = {"benchmark_id": benchmark_id, "model_id": model_id, "dataset_id": dataset_id}
        return self._call(list[ResultPublic], "GET", api.RESULTS, params=params)

    def result(self, result_id: int) -> ResultPublic:
        return self._call(ResultPublic, "GET", api.RESULT.format(result_id=result_id))

    # --- audit trail --------------------------------------------------------------------

    def audit_entries(
        self,
        entity_kind: str | None = None,
        entity_ids: Iterable[int | str] | None = None,
        actor: str | None = None,
    ) -> list[AuditEntryPublic]:
        """The server's audit entries this account may see, in the log's order: about
        ``entity_kind`` (e.g. ``"result"``) and, when given, only those ``entity_ids``."""
        ids = [str(i) for i in entity_ids] if entity_ids is not None else None
        if ids == []:
            return []  # none asked for (an empty filter would ask for every entry)
        params = {"entity_kind": entity_kind, "entity_id": ids, "actor": actor}
        return self._call(list[AuditEntryPublic], "GET", api.AUDIT, params=params)
