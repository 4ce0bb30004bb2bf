{% macro union_tables(relations) -%}
    {{ return(adapter.dispatch('union_tables', 'shop_utils')(relations)) }}
{%- endmacro %}

{% macro default__union_tables(relations) -%}
    {#- the SQL is built from the warehouse's columns: nothing while dbt parses -#}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- for relation in relations %}
    select {{ adapter.get_columns_in_relation(relation) | map(attribute='name') | join(', ') }}
    from {{ relation }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}
