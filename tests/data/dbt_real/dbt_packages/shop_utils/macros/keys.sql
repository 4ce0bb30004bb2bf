{% macro surrogate_key(fields) -%}
    {{ return(adapter.dispatch('surrogate_key', 'shop_utils')(fields)) }}
{%- endmacro %}

{% macro default__surrogate_key(fields) -%}
    {%- set parts = [] -%}
    {%- for field in fields -%}
        {%- do parts.append("coalesce(cast(" ~ field ~ " as " ~ dbt.type_string() ~ "), '')") -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}
