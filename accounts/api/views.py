"""Account endpoints: register, JWT login/refresh/logout, profile, API keys."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django_ratelimit.core import is_ratelimited
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import login, selectors, services
from accounts.api import serializers as s
from accounts.audit import audit_log_record
from accounts.errors import EmailUnverified, LoginThrottled, WrongCredentials
from accounts.models import ApiKey, User
from accounts.permissions import Allowed, SignedIn

SIGNUPS_PER_IP = "10/h"


def _tokens(user) -> dict[str, str]:
    refresh = RefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def _validation_error(error: DjangoValidationError) -> exceptions.ValidationError:
    detail = error.message_dict if hasattr(error, "error_dict") else {"detail": error.messages}
    return exceptions.ValidationError(detail)


class PublicEndpoint(APIView):
    """No credentials needed; a failed sign-in still answers 401 with WWW-Authenticate."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class RegisterView(PublicEndpoint):
    """Create a free account; sign-in works once the mailed link is followed.

    With ``ACCOUNT_EMAIL_VERIFICATION=mandatory`` (the default) a taken address
    gets the same answer as a new one and its owner a mail instead, so the
    answer tells nobody who has an account. With ``optional`` the new account
    is signed in at once (a JWT pair) and a taken address is a 400.
    """

    @extend_schema(
        request=s.RegisterSerializer,
        responses={
            201: OpenApiResponse(
                s.TokenPairSerializer,
                description="With mandatory email verification (the default) only `email` "
                "and `email_verification: sent`, whether or not the address already has an "
                "account (its owner is mailed instead), and `auth/login` answers 403 "
                "`email_unverified` until the link is followed. With optional verification "
                "the new account (`user`) and a JWT pair.",
            )
        },
    )
    def post(self, request: Request) -> Response:
        if is_ratelimited(
            request, group="signup-ip", key="ip", rate=SIGNUPS_PER_IP, increment=True
        ):
            raise exceptions.Throttled(wait=3600, detail="Too many sign-ups from your address.")
        data = s.RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            user = services.user_register(**data.validated_data, request=request)
        except DjangoValidationError as error:
            raise _validation_error(error) from None
        if user is None or selectors.email_verification_required():
            # The same answer whether or not the address already had an account.
            body = {"email": data.validated_data["email"], "email_verification": "sent"}
        else:
            body = {"user": s.UserSerializer(user).data} | _tokens(user)
        return Response(body, status=status.HTTP_201_CREATED)


class LoginView(PublicEndpoint):
    """Exchange email and password for a JWT pair.

    Five wrong passwords for one account within a minute lock further tries
    for that account until that minute is over (429 with Retry-After); see
    :mod:`accounts.lockout`, which the sign-in page shares.
    """

    @extend_schema(request=s.LoginSerializer, responses={200: s.TokenPairSerializer})
    def post(self, request: Request) -> Response:
        data = s.LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            user = login.jwt_login(request=request, **data.validated_data)
        except LoginThrottled as error:
            raise exceptions.Throttled(wait=error.wait, detail=error.message) from None
        except WrongCredentials as error:
            raise exceptions.AuthenticationFailed(error.message) from None
        except EmailUnverified as error:
            raise exceptions.PermissionDenied(error.message, code=error.code) from None
        return Response(_tokens(user))


class RefreshView(PublicEndpoint):
    """Exchange a refresh token for a new pair; the old refresh token stops working."""

    @extend_schema(request=s.RefreshSerializer, responses={200: s.TokenPairSerializer})
    def post(self, request: Request) -> Response:
        serializer = TokenRefreshSerializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except TokenError as error:
            raise exceptions.AuthenticationFailed(str(error)) from None
        except User.DoesNotExist:
            # simplejwt looks the account up with .get(): a deleted account would be a 500.
            raise exceptions.AuthenticationFailed(
                "No active account found for the given token.", code="no_active_account"
            ) from None
        return Response(serializer.validated_data)


class LogoutView(APIView):
    """Blacklist the given refresh token so it can never be used again (not with an API key)."""

    permission_classes = [SignedIn]

    @extend_schema(request=s.RefreshSerializer, responses={204: None})
    def post(self, request: Request) -> Response:
        data = s.RefreshSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            token = RefreshToken(data.validated_data["refresh"])
            if str(token.get("user_id")) != str(request.user.pk):
                raise exceptions.PermissionDenied("That token belongs to another account.")
            token.blacklist()
        except TokenError as error:
            raise exceptions.ValidationError({"refresh": [str(error)]}) from None
        audit_log_record(action="logout", actor=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(generics.RetrieveUpdateAPIView):
    """The signed-in account: read it (any API key may), or change the display name (no key)."""

    serializer_class = s.UserSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self):
        return self.request.user

    def perform_update(self, serializer: s.UserSerializer) -> None:
        services.user_update(user=self.request.user, **serializer.validated_data)


class ApiKeyListView(generics.ListCreateAPIView):
    """List your API keys, or create one (its secret is in the response, once)."""

    serializer_class = s.ApiKeySerializer
    permission_classes = [IsAuthenticated, Allowed("api:keys")]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return ApiKey.objects.none()
        return selectors.api_keys_for(user=self.request.user)

    @extend_schema(responses={201: s.ApiKeyCreatedSerializer})
    def post(self, request: Request) -> Response:
        data = s.ApiKeySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            key, secret = services.api_key_create(
                owner=request.user, request=request, **data.validated_data
            )
        except DjangoValidationError as error:
            raise _validation_error(error) from None
        body = s.ApiKeyCreatedSerializer(key).data | {"key": secret}
        return Response(body, status=status.HTTP_201_CREATED)


class ApiKeyDetailView(generics.RetrieveDestroyAPIView):
    """One of your API keys; DELETE revokes it (it stays listed, marked revoked)."""

    serializer_class = s.ApiKeySerializer
    permission_classes = [IsAuthenticated, Allowed("api:keys")]

    def get_object(self):
        return get_object_or_404(
            selectors.api_keys_for(user=self.request.user), pk=self.kwargs["pk"]
        )

    def perform_destroy(self, instance) -> None:
        services.api_key_revoke(key=instance, actor=self.request.user, request=self.request)
