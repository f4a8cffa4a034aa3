"""Account endpoints under /api/v1/auth/."""

from django.urls import path

from accounts.api import staff, views

urlpatterns = [
    path("auth/register", views.RegisterView.as_view(), name="auth-register"),
    path("auth/login", views.LoginView.as_view(), name="auth-login"),
    path("auth/logout", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/refresh", views.RefreshView.as_view(), name="auth-refresh"),
    path("auth/me", views.MeView.as_view(), name="auth-me"),
    path("auth/api-keys", views.ApiKeyListView.as_view(), name="auth-api-keys"),
    path("auth/api-keys/<int:pk>", views.ApiKeyDetailView.as_view(), name="auth-api-key"),
    path("admin/users", staff.AdminUserListView.as_view(), name="admin-users"),
    path("admin/audit-logs", staff.AuditLogListView.as_view(), name="admin-audit-logs"),
    path("admin/rate-limits", staff.RateLimitView.as_view(), name="admin-rate-limits"),
]
