from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets

from dms.core.api_base import (
    SEARCH_PARAMETER,
    SELECTOR_SEARCH_BACKENDS,
    DealershipScopedMixin,
    ScopedPrimaryKeyRelatedField,
)

from . import selectors, services
from .models import Part, Supplier


class SupplierSerializer(serializers.ModelSerializer):
    class Meta:
        model = Supplier
        fields = ["id", "dealership", "name", "code", "delivery_days", "email", "phone", "is_active"]
        read_only_fields = ["dealership"]
        validators = []


class PartSerializer(serializers.ModelSerializer):
    default_supplier = ScopedPrimaryKeyRelatedField(queryset=Supplier.objects.all(), required=False, allow_null=True)

    class Meta:
        model = Part
        fields = ["id", "dealership", "number", "name", "price", "unit", "default_supplier", "is_active"]
        read_only_fields = ["dealership"]
        validators = []


class _Base(
    DealershipScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    http_method_names = ["get", "post", "patch", "head", "options"]
    filter_backends = SELECTOR_SEARCH_BACKENDS


@extend_schema_view(list=extend_schema(parameters=[SEARCH_PARAMETER]))
@extend_schema(tags=["parts"])
class PartViewSet(_Base):
    serializer_class = PartSerializer
    queryset = Part.objects.none()
    filterset_fields = ["unit", "default_supplier", "is_active"]
    ordering_fields = ["number", "name", "price"]

    def get_queryset(self):
        return selectors.part_list(
            dealership_ids=self.scoped_dealership_ids(), search=self.request.query_params.get("search", "")
        )

    def perform_create(self, serializer):
        serializer.instance = services.part_create(
            actor=self.request.user, dealership=self.write_dealership(), **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.part_update(
            actor=self.request.user, part=serializer.instance, data=serializer.validated_data
        )


@extend_schema(tags=["parts"])
class SupplierViewSet(_Base):
    serializer_class = SupplierSerializer
    queryset = Supplier.objects.none()
    filterset_fields = ["is_active"]
    ordering_fields = ["name", "delivery_days"]

    def get_queryset(self):
        return selectors.supplier_list(dealership_ids=self.scoped_dealership_ids())

    def perform_create(self, serializer):
        serializer.instance = services.supplier_create(
            actor=self.request.user, dealership=self.write_dealership(), **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.supplier_update(
            actor=self.request.user, supplier=serializer.instance, data=serializer.validated_data
        )
