from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from indicators import entry_views as indicator_entry, views as indicator_views
from portfolio import dashboard, health, plan_views, views as portfolio_views, zone_views
from reporting import status_views as reporting_views, views as report_views
from supervision import views as supervision_views

urlpatterns = [
    path("", dashboard.dashboard, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(template_name="registration/login.html"), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("lists/<slug:kind>/", portfolio_views.item_list, name="item_list"),
    path("lists/<slug:kind>/status/", portfolio_views.item_bulk_status, name="item_bulk_status"),
    path("items/<int:pk>/", portfolio_views.item_detail, name="item_detail"),
    path("items/<int:pk>/report/", report_views.report_form, name="report_form"),
    path("milestones/<int:pk>/met/", report_views.milestone_met, name="milestone_met"),
    path("items/<int:item_pk>/milestones/new/", report_views.milestone_edit, name="milestone_new"),
    path("items/<int:item_pk>/milestones/<int:pk>/", report_views.milestone_edit, name="milestone_edit"),
    path("targets/upload/", report_views.targets_upload, name="targets_upload"),
    path("targets/template/", reporting_views.targets_template_download, name="targets_template"),
    path("plans/template/", reporting_views.plan_template_download, name="plan_template"),
    path("reports/batch/", report_views.report_batch, name="report_batch"),
    path("reports/template/", reporting_views.report_template, name="report_template"),
    path("reports/status/", reporting_views.reporting_status, name="reporting_status"),
    path("reports/status/remind/", reporting_views.remind_missing, name="reporting_remind"),
    path("my/", portfolio_views.my_items, name="my_items"),
    path("flags/", dashboard.flag_list, name="flag_list"),
    path("ranking/", dashboard.unit_ranking, name="unit_ranking"),
    path("zones/", zone_views.zone_comparison, name="zone_comparison"),
    path("rollup/", dashboard.rollup_download, name="rollup_download"),
    path("bulletin/", dashboard.bulletin_download, name="bulletin_download"),
    path("indicators/", indicator_views.indicator_list, name="indicator_list"),
    path("indicators/midterm/", indicator_views.indicator_midterm, name="indicator_midterm"),
    path("indicators/values/", indicator_entry.indicator_values, name="indicator_values"),
    path("indicators/values/template/", indicator_entry.indicator_values_template, name="indicator_values_template"),
    path("indicators/values/upload/", indicator_entry.indicator_values_upload, name="indicator_values_upload"),
    path("plans/", plan_views.plan_list, name="plan_list"),
    path("plans/<slug:code>/review/", plan_views.plan_review, name="plan_review"),
    path("plans/<slug:code>/close/", plan_views.plan_close, name="plan_close"),
    path("plans/<slug:code>/reopen/", plan_views.plan_reopen, name="plan_reopen"),
    path("items/<int:pk>/predecessor/", plan_views.item_link, name="item_link"),
    path("problems/", supervision_views.problem_list, name="problem_list"),
    path("problems/<int:pk>/", supervision_views.problem_detail, name="problem_detail"),
    path("problems/<int:pk>/file/", supervision_views.problem_file, name="problem_file"),
    path("problems/<int:pk>/<slug:action>/", supervision_views.problem_action, name="problem_action"),
    path("items/<int:item_pk>/problems/new/", supervision_views.problem_new, name="problem_new"),
    path("orders/", supervision_views.order_list, name="order_list"),
    path("orders/new/", supervision_views.order_new, name="order_new"),
    path("orders/<int:pk>/", supervision_views.order_detail, name="order_detail"),
    path("orders/<int:pk>/<slug:action>/", supervision_views.order_action, name="order_action"),
    path("health/", health.health, name="health"),
    path("admin/", admin.site.urls),
]
